//! `shiftline demo` driven as a newcomer's script would drive it: the built binary, commands
//! piped on standard input, the transcript read from standard output.
//!
//! The demo runs on the real clock (phones ring for real seconds), so the scripts `wait`
//! and the assertions look for lines, not for a whole snapshot.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest a script may take before the test gives up on it.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What the example configuration needs for a menu and voicemail notices; appended to a
/// copy of it unless the example already has the sections.
const CUSTOMER: &str = r#"
[customer]
menu = [
  { digit = "1", skill = "billing" },
  { digit = "2", skill = "support" },
  { digit = "3", skill = "spanish", language = "es" },
]
"#;
const VOICEMAIL: &str = r#"
[voicemail]
notify = ["+15550009999"]
"#;

/// A copy of the repository's `shiftline.example.toml` with a menu and a voicemail notify
/// list, in `dir`.
fn example_config(dir: &Path) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("shiftline.example.toml");
    let mut text = std::fs::read_to_string(&example).expect("the example configuration");
    if !text.contains("[customer]") {
        text.push_str(CUSTOMER);
    }
    if !text.contains("[voicemail]") {
        text.push_str(VOICEMAIL);
    }
    let path = dir.join("shiftline.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// Runs `shiftline demo --config <config>` with `script` on standard input; its stdout.
fn run_demo(script: &str) -> String {
    run_demo_with(script, &[])
}

/// `run_demo` with more command-line arguments.
fn run_demo_with(script: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = example_config(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_shiftline"))
        .args(["demo", "--config"])
        .arg(&config)
        .args(args)
        .current_dir(dir.path())
        // The demo ignores a real auth token anyway; keep the test's environment out of it.
        .env_remove("SHIFTLINE_ENROLMENT_PIN")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the shiftline binary starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(script.as_bytes())
        .expect("write the script");
    drop(stdin);
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the demo") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the demo took more than {TIMEOUT:?}:\n{}\n--- stderr ---\n{}",
                out.join().unwrap_or_default(),
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out.join().expect("stdout read");
    let stderr = err.join().expect("stderr read");
    assert!(
        status.success(),
        "the demo failed ({status}):\n{stdout}\n--- stderr ---\n{stderr}"
    );
    // Shown with `cargo test --test demo -- --nocapture`.
    println!("{stdout}");
    if !stderr.is_empty() {
        println!("--- stderr ---\n{stderr}");
    }
    stdout
}

fn assert_has(transcript: &str, wanted: &str) {
    assert!(
        transcript.contains(wanted),
        "expected {wanted:?} in the transcript:\n{transcript}"
    );
}

/// The first line containing `first` comes before the first containing `then`.
fn assert_order(transcript: &str, first: &str, then: &str) {
    let at = |what: &str| {
        transcript
            .find(what)
            .unwrap_or_else(|| panic!("expected {what:?} in the transcript:\n{transcript}"))
    };
    assert!(
        at(first) < at(then),
        "expected {first:?} before {then:?}:\n{transcript}"
    );
}

#[test]
fn ana_goes_online_in_spanish_and_takes_a_billing_call() {
    let transcript = run_demo(
        "phone ana human:1\n\
         ana> on\n\
         ana> 1\n\
         ana> si\n\
         call billing\n\
         wait 8s\n\
         status\n\
         quit\n",
    );
    // The piped commands are echoed, in order.
    assert_order(&transcript, "> ana> on", "> call billing");
    // Ana texts in Spanish: the skill menu, the confirmation, then online.
    assert_has(&transcript, "Ana texts \"on\"");
    assert_has(&transcript, "reply to Ana: \"¡Hola Ana!");
    assert_has(&transcript, "reply to Ana: \"Guardado. Estás en línea para");
    assert_has(&transcript, "Ana is now online for billing");
    assert_has(
        &transcript,
        "TaskRouter: worker Ana WK..01 is Available (skills billing",
    );
    // The customer presses 1 for Billing; Ana's phone rings, a person answers, presses 1
    // and is bridged.
    assert_has(
        &transcript,
        "calls the business line +15550100001 (will press 1 for Billing)",
    );
    assert_has(&transcript, "presses 1");
    assert_has(&transcript, "-> +15550001111 (Ana): ringing");
    assert_has(&transcript, "answered by human");
    assert_has(&transcript, "bridged with CA..01");
    assert_has(&transcript, "dispatch: WR..01 for Ana: bridged");
    assert_order(&transcript, "answered by human", "bridged with");
    // The status table.
    let ana = transcript
        .lines()
        // After the time: `Ana  +15550001111  online  billing  Available`.
        .find(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let stamped = words
                .first()
                .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit() || c == ':'));
            stamped && words.get(1..3) == Some(&["Ana", "+15550001111"][..])
        })
        .unwrap_or_else(|| panic!("Ana's status row:\n{transcript}"));
    assert!(
        ana.contains("online") && ana.contains("billing") && ana.contains("Available"),
        "{ana}"
    );
    assert_has(&transcript, "voicemails: none");
    assert_has(&transcript, "stopped");
}

#[test]
fn nobody_online_so_the_caller_leaves_a_voicemail_that_is_texted() {
    let transcript = run_demo(
        "status\n\
         nobody> hello\n\
         phone ana ringing-forever\n\
         call support\n\
         wait 5s\n\
         status\n",
    );
    // Mistakes are reported and the script goes on.
    assert_has(
        &transcript,
        "error: \"nobody\" is neither a command nor a worker",
    );
    assert_has(
        &transcript,
        "error: \"ringing-forever\" is not a phone answer",
    );
    assert_has(&transcript, "(will press 2 for Support)");
    assert_has(&transcript, "presses 2");
    assert_has(&transcript, "records a voicemail");
    assert_has(
        &transcript,
        "voicemail stored: from +15559990000 for support",
    );
    assert_has(
        &transcript,
        "text to +15550009999: \"New voicemail from +15559990000",
    );
    assert_has(&transcript, "voicemails: 1");
    assert!(
        !transcript.contains("answered by human"),
        "nobody was online:\n{transcript}"
    );
    // The end of the input stops the demo as `quit` does.
    assert_has(&transcript, "stopped");
}

#[test]
fn a_slow_twilio_still_connects_the_caller() {
    let transcript = run_demo_with(
        "ben> skills\n\
         ben> 1\n\
         ben> yes\n\
         ben> on\n\
         call billing\n\
         wait 6s\n\
         status\n",
        &["--twilio-latency-ms", "150"],
    );
    assert_has(&transcript, "TaskRouter: worker Ben");
    assert_has(&transcript, "-> +15550002222 (Ben): ringing");
    assert_has(&transcript, "bridged with CA..01");
    // The status table says Ben is taken, though TaskRouter keeps him Available.
    assert_has(&transcript, "Available (on a call)");
    assert_has(
        &transcript,
        "outbox: 0 request(s) to Twilio waiting, 0 refused for good",
    );
}

#[test]
fn ana_uses_the_intake_line_by_keys_and_by_voice() {
    // Ana texts in Spanish (the example configuration), so the line speaks Spanish to her.
    let transcript = run_demo(
        "press 1\n\
         dial ana\n\
         press 3\n\
         press 1\n\
         press 1\n\
         dial ana\n\
         say en línea\n\
         status\n",
    );
    assert_has(&transcript, "error: nobody is on the intake line");
    assert_has(&transcript, "Ana calls the intake line");
    assert_has(&transcript, "Ana hears \"Hola Ana, estás fuera de línea.\"");
    assert_order(
        &transcript,
        "Ana presses 3",
        "Ana hears \"Marca los números",
    );
    assert_order(
        &transcript,
        "Ana presses 1",
        "Ana hears \"Elegiste Facturación.",
    );
    assert_order(
        &transcript,
        "Ana says \"en línea\"",
        "Ana is now online for billing",
    );
}
