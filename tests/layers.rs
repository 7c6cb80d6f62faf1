//! The layers of `src/`, checked: each module imports only the modules below it, and the
//! core imports nothing that does I/O. A change that breaks a rule fails here, naming the
//! file and the reference, before it makes the code harder to change.
//!
//! Top to bottom (a module may use those with a lower rank, and itself):
//!
//! | rank | modules | what they are |
//! |---|---|---|
//! | 8 | `cli`, `demo` | the operator commands and the demo, beside `main` |
//! | 7 | `app` | start-up: builds everything and serves |
//! | 6 | `web` | HTTP: parse, call one use case, render |
//! | 5 | `service` | the use cases |
//! | 4 | `outbox` | carries the core's commands out against Twilio |
//! | 3 | `metrics` | counters, gauges |
//! | 2 | `store`, `twilio`, `i18n`, `config` | state; Twilio's REST, TwiML and signatures; messages; settings |
//! | 1 | `core` | the pure core: domain, effects, intake, dispatch, schedule, text |
//! | 0 | `clock`, `allocator` | where "now" comes from; how freed memory goes back |
//!
//! Inside the core the same holds for its parts: `domain` and `text`, then `effects`, then
//! `schedule`, then `intake`, then `dispatch`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const RANKS: &[(&str, u32)] = &[
    ("clock", 0),
    ("allocator", 0),
    ("core", 1),
    ("config", 2),
    ("store", 2),
    ("twilio", 2),
    ("i18n", 2),
    ("metrics", 3),
    ("outbox", 4),
    ("service", 5),
    ("web", 6),
    ("app", 7),
    ("cli", 8),
    ("demo", 8),
];

const CORE_RANKS: &[(&str, u32)] = &[
    ("domain", 0),
    ("text", 0),
    ("effects", 1),
    ("schedule", 2),
    ("intake", 3),
    ("dispatch", 4),
];

/// Crates and std modules that do I/O: none of them belongs in the pure core.
const IO: &[&str] = &[
    "tokio",
    "axum",
    "sled",
    "reqwest",
    "std::fs",
    "std::net",
    "std::process",
    "tracing",
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file that ships: comments and test modules left out.
fn shipped(text: &str) -> String {
    let code: String = text
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    match code.find("#[cfg(test)]") {
        Some(at) => code[..at].to_string(),
        None => code,
    }
}

/// The modules `crate::` paths in `code` name, with the part of `crate::core` they name.
fn references(code: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let sub = rest[name.len()..].strip_prefix("::").map(|s| {
            s.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        });
        found.push((name, sub));
    }
    found
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let rank = |name: &str| RANKS.iter().find(|(n, _)| *n == name).map(|(_, r)| *r);
    let core_rank = |name: &str| CORE_RANKS.iter().find(|(n, _)| *n == name).map(|(_, r)| *r);
    let mut wrong: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in &all {
        let relative = path.strip_prefix(&src).unwrap();
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        let module = parts[0].clone();
        if module == "main" || module == "lib" {
            continue;
        }
        let Some(own) = rank(&module) else {
            wrong
                .entry(relative.display().to_string())
                .or_default()
                .push(format!(
                    "`{module}` has no place in tests/layers.rs: give it a rank"
                ));
            continue;
        };
        let code = shipped(&std::fs::read_to_string(path).unwrap());
        for (name, sub) in references(&code) {
            let file = relative.display().to_string();
            match rank(&name) {
                None => wrong
                    .entry(file)
                    .or_default()
                    .push(format!("crate::{name} is unknown")),
                Some(r) if name != module && r >= own => wrong
                    .entry(file)
                    .or_default()
                    .push(format!("uses crate::{name} (rank {r}) from rank {own}")),
                _ => {}
            }
            if module == "core" && name == "core" {
                let mine = parts.get(1).map(String::as_str).unwrap_or_default();
                if let (Some(theirs), Some(own), Some(r)) = (
                    sub.as_deref(),
                    core_rank(mine),
                    sub.as_deref().and_then(core_rank),
                ) && theirs != mine
                    && r >= own
                {
                    wrong
                        .entry(relative.display().to_string())
                        .or_default()
                        .push(format!("core::{mine} uses core::{theirs}"));
                }
            }
        }
        if module == "core" {
            for io in IO {
                let used = code.contains(&format!("{io}::")) || code.contains(&format!("use {io}"));
                if used {
                    wrong
                        .entry(relative.display().to_string())
                        .or_default()
                        .push(format!("the pure core uses {io}"));
                }
            }
        }
    }
    let report: Vec<String> = wrong
        .iter()
        .map(|(file, why)| format!("  {file}: {}", why.join("; ")))
        .collect();
    assert!(
        report.is_empty(),
        "layer rules broken:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_simulator_is_its_own_crate_and_the_product_does_not_depend_on_it_below_app() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert!(
        !src.join("simulator").exists(),
        "the simulator lives in crates/twilio-sim"
    );
    let mut all = Vec::new();
    files(&src, &mut all);
    for path in all {
        let relative = path.strip_prefix(&src).unwrap().display().to_string();
        let allowed = ["app.rs", "main.rs"];
        if allowed.iter().any(|a| relative == *a) || relative.starts_with("demo") {
            continue;
        }
        let code = shipped(&std::fs::read_to_string(&path).unwrap());
        assert!(
            !code.contains("twilio_sim"),
            "{relative} uses the simulator: only start-up and the demo may"
        );
    }
}
