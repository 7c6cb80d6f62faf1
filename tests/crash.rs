//! kill -9 in the middle of a burst of texts loses no acknowledged change: every reply is
//! sent only after the state it reports is on disk.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::{post_sms, wait_healthy};

const TOKEN: &str = "crash-test-token";
const API: &str = "crash-api-token";
const WORKERS: usize = 16;

/// Each worker cycles through the skill menu; after message `k` its state is `EXPECTED[k % 9]`.
const SCRIPT: [&str; 9] = [
    "skills", "1", "yes", "skills", "2", "yes", "skills", "3", "yes",
];
const EXPECTED: [(&str, &[&str]); 9] = [
    ("skill_menu", &["spanish"]),
    ("confirm", &["spanish"]),
    ("idle", &["billing"]),
    ("skill_menu", &["billing"]),
    ("confirm", &["billing"]),
    ("idle", &["support"]),
    ("skill_menu", &["support"]),
    ("confirm", &["support"]),
    ("idle", &["spanish"]),
];

fn phone(i: usize) -> String {
    format!("+1555200{i:04}")
}

fn config(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\ndata_dir = \"{}\"\n",
        dir.join("data").display()
    );
    for key in ["billing", "support", "spanish"] {
        text += &format!("[[skills]]\nkey = \"{key}\"\n");
    }
    for i in 0..WORKERS {
        text += &format!("[[workers]]\nphone = \"{}\"\nname = \"W{i}\"\n", phone(i));
    }
    let path = dir.join("shiftline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_shiftline"))
        .args(["serve", "--config"])
        .arg(config)
        .env("SHIFTLINE_TWILIO_AUTH_TOKEN", TOKEN)
        .env("SHIFTLINE_API_TOKEN", API)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the shiftline binary starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_burst_loses_no_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = config(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut child = start(&config);
    wait_healthy(&client, &base).await;

    // Each worker texts its script in order; `acked[i]` counts the texts answered 200.
    let total = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..WORKERS {
        let (client, base, total) = (client.clone(), base.clone(), total.clone());
        tasks.push(tokio::spawn(async move {
            let mut acked = 0;
            for k in 0..1000 {
                let sid = format!("SM{i:04}{k:028}");
                match post_sms(&client, &base, TOKEN, &phone(i), SCRIPT[k % 9], &sid).await {
                    Some(200) => {
                        acked += 1;
                        total.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => break,
                }
            }
            acked
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while total.load(Ordering::Relaxed) < 400 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut acked = Vec::new();
    for t in tasks {
        acked.push(t.await.unwrap());
    }
    assert!(
        acked.iter().sum::<usize>() >= 400,
        "the burst was too small: {acked:?}"
    );

    let mut child = start(&config);
    wait_healthy(&client, &base).await;
    for (i, &n) in acked.iter().enumerate() {
        let body = client
            .get(format!("{base}/api/workers/{}", phone(i)))
            .bearer_auth(API)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let view: serde_json::Value = serde_json::from_str(&body).unwrap();
        let state = |k: usize| {
            let (dialogue, skills) = EXPECTED[k % 9];
            (
                dialogue.to_string(),
                skills.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
        };
        let skills: Vec<String> = serde_json::from_value(view["skills"].clone()).unwrap();
        let found = (view["dialogue"].as_str().unwrap().to_string(), skills);
        // The last acknowledged text is applied; the one in flight at the kill may be too.
        let acknowledged = state(n - 1);
        let in_flight = state(n);
        assert!(
            found == acknowledged || found == in_flight,
            "worker {i}: after {n} acknowledged texts expected {acknowledged:?} (or {in_flight:?}), found {found:?}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
