//! How long reading one text takes, for `bench/run.sh` and for profiling: every text of the
//! corpus (`tests/corpus/*.txt`) through `understand::read`, round after round.
//!
//! ```text
//! cargo run --release --example bench_understand -- --rounds 50
//! ```
//!
//! Prints `UNDERSTAND texts=... per_text_us=... p99_us=...`.

use std::time::Instant;

use clap::Parser;
use shiftline::core::domain::Locale;
use shiftline::core::domain::catalog::{Catalog, Skill};
use shiftline::core::intake::understand;

#[derive(Parser)]
struct Args {
    /// Times every text is read.
    #[arg(long, default_value_t = 50)]
    rounds: usize,
}

fn catalog() -> Catalog {
    let skill = |key: &str, en: &str, es: &str| Skill {
        key: shiftline::core::domain::SkillKey::parse(key).expect("a key"),
        names: [(Locale::En, en.to_string()), (Locale::Es, es.to_string())]
            .into_iter()
            .collect(),
    };
    Catalog::new(vec![
        skill("billing", "Billing", "Facturación"),
        skill("support", "Support", "Soporte"),
        skill("spanish", "Spanish", "Español"),
    ])
}

/// The texts of the corpus: the part before ` | ` on each line that is not a comment or
/// a `[state lang]` heading, with the heading's language.
fn texts() -> Vec<(String, Locale)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the corpus") {
        let path = entry.expect("a file").path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let mut language = Locale::En;
        for line in std::fs::read_to_string(&path).expect("readable").lines() {
            let line = line.trim();
            if line.starts_with('[') {
                language = if line.contains(" es") {
                    Locale::Es
                } else {
                    Locale::En
                };
            } else if let Some((text, _)) = line.split_once(" | ")
                && !line.starts_with('#')
            {
                out.push((text.to_string(), language));
            }
        }
    }
    out
}

fn main() {
    let args = Args::parse();
    let catalog = catalog();
    let texts = texts();
    let mut each = Vec::with_capacity(texts.len() * args.rounds);
    let started = Instant::now();
    for _ in 0..args.rounds {
        for (text, language) in &texts {
            let t = Instant::now();
            std::hint::black_box(understand::read(text, *language, &catalog));
            each.push(t.elapsed());
        }
    }
    let total = started.elapsed();
    each.sort();
    let p99 = each[(each.len() * 99 / 100).min(each.len() - 1)];
    println!(
        "UNDERSTAND texts={} per_text_us={:.1} p99_us={:.1}",
        each.len(),
        total.as_secs_f64() * 1e6 / each.len() as f64,
        p99.as_secs_f64() * 1e6
    );
}
