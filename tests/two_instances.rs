//! Two `shiftline serve` processes on one PostgreSQL database and one simulator process
//! (`shiftline simulator`), behind a load balancer: 32 workers text both instances in
//! turn, one instance is killed with SIGKILL in the middle, and the survivor carries on.
//!
//! What must hold: every acknowledged change is in the database; every command was carried
//! out (TaskRouter ends up as the database says) and none twice, except those in flight
//! at the moment of the kill; customers' calls are still dispatched, by the survivor.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::pg::TestDatabase;
use common::{balancer, free_port, post_sms_via, wait_healthy};
use shiftline::app::SIMULATOR_ACCOUNT;
use shiftline::store::{PgStore, Store};
use twilio_sim::Remote;

const TOKEN: &str = "two-instances-token";
const WORKERS: usize = 32;
/// Texts each worker sends: three turns of the script.
const TEXTS: usize = 27;
/// Each worker cycles through the skill menu; after text `k` its state is `EXPECTED[k % 9]`.
const SCRIPT: [&str; 9] = [
    "skills", "1", "yes", "skills", "2", "yes", "skills", "3", "yes",
];
const EXPECTED: [(&str, &[&str]); 9] = [
    ("skill_menu", &[]),
    ("confirm", &[]),
    ("idle", &["billing"]),
    ("skill_menu", &["billing"]),
    ("confirm", &["billing"]),
    ("idle", &["support"]),
    ("skill_menu", &["support"]),
    ("confirm", &["support"]),
    ("idle", &["spanish"]),
];

fn phone(i: usize) -> String {
    format!("+1555300{i:04}")
}

fn config(
    dir: &std::path::Path,
    name: &str,
    port: u16,
    public: SocketAddr,
    sim: u16,
) -> std::path::PathBuf {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://{public}\"\n\
         data_dir = \"{}\"\n\
         [store]\nbackend = \"postgres\"\n\
         [simulator]\nurl = \"http://127.0.0.1:{sim}\"\n\
         [customer]\nmenu = [{{ digit = \"1\", skill = \"billing\" }}, {{ digit = \"2\", skill = \"support\" }}]\n",
        dir.join(name).display()
    );
    for key in ["billing", "support", "spanish"] {
        text += &format!("[[skills]]\nkey = \"{key}\"\n");
    }
    for i in 0..WORKERS {
        text += &format!("[[workers]]\nphone = \"{}\"\nname = \"W{i}\"\n", phone(i));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// A child process killed when the test ends, passed or failed: a failing test leaves no
/// instance behind holding database connections.
struct Process(Child);

impl std::ops::Deref for Process {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Process {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `shiftline args`, its warnings and errors going to `log`.
fn spawn(args: &[&str], database: &str, log: &std::path::Path) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_shiftline"))
        .args(args)
        .env("SHIFTLINE_TWILIO_AUTH_TOKEN", TOKEN)
        .env("SHIFTLINE_DATABASE_URL", database)
        // The outbox's debug lines say which commands each instance carried out.
        .env("RUST_LOG", "warn,shiftline::outbox=debug")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("the shiftline binary starts");
    Process(child)
}

/// Polls `check` every 200 ms until it holds or `limit` passes.
async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_two_instances_dies_and_nothing_is_lost() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (sim_port, a_port, b_port) = (free_port(), free_port(), free_port());
    let a: SocketAddr = format!("127.0.0.1:{a_port}").parse().unwrap();
    let b: SocketAddr = format!("127.0.0.1:{b_port}").parse().unwrap();
    let public = balancer::start(vec![a, b]).await.addr;

    let mut simulator = spawn(
        &["simulator", "--listen", &format!("127.0.0.1:{sim_port}")],
        &db.url,
        &dir.path().join("simulator.log"),
    );
    let remote = Remote::new(
        format!("http://127.0.0.1:{sim_port}"),
        SIMULATOR_ACCOUNT,
        TOKEN,
    )
    .unwrap();
    remote.wait_until_up(Duration::from_secs(20)).await.unwrap();

    let client = reqwest::Client::new();
    let config_a = config(dir.path(), "a", a_port, public, sim_port);
    let config_b = config(dir.path(), "b", b_port, public, sim_port);
    let mut instance_a = spawn(
        &["serve", "--config", config_a.to_str().unwrap()],
        &db.url,
        &dir.path().join("a.log"),
    );
    wait_healthy(&client, &format!("http://{a}")).await;
    let mut instance_b = spawn(
        &["serve", "--config", config_b.to_str().unwrap()],
        &db.url,
        &dir.path().join("b.log"),
    );
    wait_healthy(&client, &format!("http://{b}")).await;

    // Each worker texts the two instances in turn; a text the dead instance does not answer
    // goes to the other, as Twilio's retry through the load balancer would.
    let a_dead = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for i in 0..WORKERS {
        let (client, a_dead, acked) = (client.clone(), a_dead.clone(), acked.clone());
        workers.push(tokio::spawn(async move {
            let url = format!("http://{public}");
            for k in 0..TEXTS {
                let sid = format!("SM{i:04}{k:028}");
                let mut to = if (i + k) % 2 == 0 && !a_dead.load(Ordering::Relaxed) {
                    a
                } else {
                    b
                };
                loop {
                    // Signed for the public URL, sent straight to one instance.
                    let status = post_sms_via(
                        &client,
                        &url,
                        &format!("http://{to}"),
                        TOKEN,
                        &phone(i),
                        SCRIPT[k % 9],
                        &sid,
                    )
                    .await;
                    match status {
                        Some(200) => break,
                        Some(other) => panic!("worker {i} text {k}: HTTP {other}"),
                        None => to = b,
                    }
                }
                acked.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let half = WORKERS * TEXTS / 2;
    assert!(
        eventually(Duration::from_secs(60), || async {
            acked.load(Ordering::Relaxed) >= half
        })
        .await,
        "the texts are answered"
    );
    instance_a.kill().unwrap(); // SIGKILL
    instance_a.wait().unwrap();
    a_dead.store(true, Ordering::Relaxed);
    let killed_at = Instant::now();
    let killed_at_utc = chrono::Utc::now();
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(acked.load(Ordering::Relaxed), WORKERS * TEXTS);

    // Every acknowledged change is in the database.
    let store = PgStore::connect(&db.url).unwrap();
    let (dialogue, skills) = EXPECTED[(TEXTS - 1) % 9];
    for i in 0..WORKERS {
        let record = store
            .worker(&shiftline::core::domain::PhoneNumber::parse(&phone(i)).unwrap())
            .await
            .unwrap()
            .unwrap();
        let found: Vec<String> = record.skills.iter().map(|s| s.to_string()).collect();
        assert_eq!(found, skills, "worker {i}'s skills");
        assert_eq!(record.dialogue.as_str(), dialogue, "worker {i}'s dialogue");
    }

    // Every command is carried out: the outbox empties (the dead instance's claims come
    // back when their lease runs out) and TaskRouter holds what the database says.
    assert!(
        eventually(Duration::from_secs(60), || async {
            store.outbox().await.unwrap().is_empty()
        })
        .await,
        "the outbox empties after the kill"
    );
    let drained = killed_at.elapsed();
    assert!(store.parked().await.unwrap().is_empty());
    let taskrouter = remote.workers().await.unwrap();
    for i in 0..WORKERS {
        let worker = taskrouter
            .iter()
            .find(|w| w.friendly_name == phone(i))
            .unwrap_or_else(|| panic!("worker {i} in TaskRouter"));
        assert_eq!(
            worker.attributes["skills"],
            serde_json::json!(skills),
            "worker {i}"
        );
    }
    // None twice, but for what A was carrying out when it was killed, which B carries out
    // again after the kill. While both instances lived, their claims never overlapped.
    let by_a = deliveries(&dir.path().join("a.log"));
    let by_b = deliveries(&dir.path().join("b.log"));
    let twice: Vec<&(chrono::DateTime<chrono::Utc>, u64)> = by_b
        .iter()
        .filter(|(_, id)| by_a.iter().any(|(_, a)| a == id))
        .collect();
    assert!(
        twice.iter().all(|(at, _)| *at >= killed_at_utc),
        "two live instances never carry out one command twice: {twice:?}"
    );
    let mut once: Vec<u64> = by_a.iter().chain(&by_b).map(|(_, id)| *id).collect();
    let carried = once.len();
    once.sort();
    once.dedup();
    assert_eq!(
        carried - once.len(),
        twice.len(),
        "no instance carries out a command twice"
    );
    eprintln!(
        "two instances: {} texts, outbox drained {:.1} s after the kill, {} command(s) \
         carried out again by the survivor (in flight at the kill)",
        WORKERS * TEXTS,
        drained.as_secs_f64(),
        twice.len()
    );
    assert!(
        twice.len() <= 32,
        "only what was in flight at the kill: {}",
        twice.len()
    );

    // Customers' calls are still dispatched, by the survivor: four workers pick billing
    // (menu key 1) and go online.
    for i in 0..4 {
        remote
            .script_phone_text(&phone(i), "human:1")
            .await
            .unwrap();
        for (n, text) in ["skills", "1", "yes", "on"].iter().enumerate() {
            let sid = format!("SM{i:04}{:028}", 1000 + n);
            let url = format!("http://{public}");
            let status = post_sms_via(
                &client,
                &url,
                &format!("http://{b}"),
                TOKEN,
                &phone(i),
                text,
                &sid,
            )
            .await;
            assert_eq!(status, Some(200));
        }
    }
    let business = "+15550100001";
    for c in 0..3 {
        let caller = format!("+1555999{c:04}");
        remote.script_phone_text(&caller, "human:1").await.unwrap();
        remote
            .place_call(
                &caller,
                business,
                &format!("http://{public}/twilio/voice/customer"),
            )
            .await
            .unwrap();
    }
    let bridged = eventually(Duration::from_secs(60), || async {
        let records = store.dispatch_records().await.unwrap();
        records
            .iter()
            .filter(|r| r.state.as_str() == "bridged")
            .count()
            >= 3
    })
    .await;
    assert!(
        bridged,
        "the survivor dispatched the customers' calls: {:?}",
        store
            .dispatch_records()
            .await
            .unwrap()
            .iter()
            .map(|r| r.state.as_str())
            .collect::<Vec<_>>()
    );

    instance_b.kill().unwrap();
    instance_b.wait().unwrap();
    simulator.kill().unwrap();
    simulator.wait().unwrap();
}

/// The outbox entries an instance started to carry out, with when, from its debug log
/// (`outbox: delivering lane=... ids=[28, 31]`).
fn deliveries(log: &std::path::Path) -> Vec<(chrono::DateTime<chrono::Utc>, u64)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut found = Vec::new();
    for line in text.lines().filter(|l| l.contains("outbox: delivering")) {
        let at = line.split_whitespace().next().unwrap_or_default();
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap_or_else(|e| panic!("a timestamp in {line:?}: {e}"))
            .with_timezone(&chrono::Utc);
        let ids = line.rsplit("ids=[").next().unwrap_or_default();
        for id in ids.trim_end_matches(']').split(", ") {
            found.push((at, id.parse().expect("an outbox id")));
        }
    }
    found
}
