//! A simulated day: 30 workers whose phones behave in mixed ways (people who press 1, slow
//! people, voicemail boxes, busy lines, phones nobody answers, fax tones, people who press
//! the wrong key) and 300 customer calls, all through the built-in Twilio simulator.
//!
//! One caller in five presses the callback key as soon as they hear they may; one customer
//! in ten does not answer the first call back.
//!
//! What must hold: no customer is ever bridged to a machine; no reservation is left to time
//! out; every caller either reaches a person or leaves a voicemail (with callbacks: or asks
//! to be called back); every voicemail is stored and announced; with callbacks, every
//! request is closed by the evening, called back or abandoned after its tries. The counts,
//! callers lost and the average time to a person, are printed
//! (`cargo test --test simulated_day -- --nocapture`).
//!
//! The day runs on one instance on sled with callbacks on and again with them off (the
//! figures to compare), and on two instances sharing a PostgreSQL database behind a load
//! balancer, one of which dies at noon (halfway through the calls).

mod common;

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use common::balancer::{self, Balancer};
use common::pg::TestDatabase;
use common::{Options, TestApp};
use shiftline::clock::ManualClock;
use twilio_sim::Answer;

/// One instance, or two behind a load balancer on one database: texts go to each in turn,
/// each delivers the outbox, and one can die.
struct Cluster {
    apps: Vec<TestApp>,
    balancer: Option<Balancer>,
    turn: usize,
}

impl Cluster {
    /// Any live instance: they share the store and the simulator.
    fn app(&self) -> &TestApp {
        &self.apps[0]
    }

    async fn sms(&mut self, from: &str, body: &str, sid: &str) {
        self.turn += 1;
        let app = &self.apps[self.turn % self.apps.len()];
        app.sms(from, body, sid).await;
    }

    /// `TestApp::settle` for every live instance at once.
    async fn settle(&self) {
        for _ in 0..10 {
            let mut busy = false;
            for app in &self.apps {
                let report = app.delivery.deliver_due().await.expect("outbox readable");
                busy |= report.delivered + report.parked + report.retrying > 0;
            }
            self.app().sim.tick().await;
            self.app().sim.settle().await;
            if !busy {
                break;
            }
        }
    }

    /// The first instance dies: its connections are cut and it delivers nothing more.
    async fn kill_one(&mut self) {
        let dead = self.apps.remove(0);
        if let Some(balancer) = &self.balancer {
            balancer.kill(dead.addr);
        }
        dead.stop().await;
    }
}

fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

const WORKERS: usize = 30;
const CALLS: usize = 300;

fn roster(callbacks: bool) -> String {
    let mut toml = String::from(
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         [[skills]]\nkey = \"billing\"\nnames = { en = \"Billing\", es = \"Facturación\" }\n\
         [[skills]]\nkey = \"support\"\nnames = { en = \"Support\", es = \"Soporte\" }\n\
         [[skills]]\nkey = \"spanish\"\nnames = { en = \"Spanish\", es = \"Español\" }\n\
         [customer]\nmenu = [{ digit = \"1\", skill = \"billing\" }, { digit = \"2\", skill = \"support\" }, { digit = \"3\", skill = \"spanish\", language = \"es\" }]\n\
         [voicemail]\nnotify = [\"+15550009999\"]\n",
    );
    writeln!(
        toml,
        "[callbacks]\nenabled = {callbacks}\nhours = \"any\"\nretry_after_mins = 10"
    )
    .unwrap();
    for i in 0..WORKERS {
        let languages = if i % 3 == 0 {
            "[\"es\", \"en\"]"
        } else {
            "[\"en\"]"
        };
        writeln!(
            toml,
            "[[workers]]\nphone = \"{}\"\nname = \"W{i}\"\nlanguages = {languages}",
            worker(i)
        )
        .unwrap();
    }
    toml
}

fn worker(i: usize) -> String {
    format!("+1555100{i:04}")
}

/// How worker `i`'s phone answers, call after call (the last one repeats).
fn behaviour(i: usize) -> Vec<&'static str> {
    match i % 10 {
        0..=3 => vec!["human:1"],
        4 => vec!["human:1:slow"],
        5 => vec!["voicemail", "human:1"],
        6 => vec!["busy", "human:1", "no-answer", "human:1"],
        7 => vec!["no-answer"],
        8 => vec!["fax", "human:1"],
        _ => vec!["human:9", "human:1"],
    }
}

/// The skills worker `i` serves, as a menu answer.
fn skills(i: usize) -> &'static str {
    match i % 4 {
        0 => "1 2",
        1 => "2",
        2 => "1 3",
        _ => "all",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_day_bridges_only_people_and_loses_no_caller() {
    one_instance_day(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_day_without_callbacks_for_comparison() {
    one_instance_day(false).await;
}

async fn one_instance_day(callbacks: bool) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    let options = Options {
        set_up: true,
        roster: Some(roster(callbacks)),
        ..Options::default()
    };
    let app = TestApp::start(dir.path(), clock.clone(), &options).await;
    let cluster = Cluster {
        apps: vec![app],
        balancer: None,
        turn: 0,
    };
    a_day(cluster, &clock, None, callbacks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_day_across_two_instances_one_killed_at_noon() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    let (a, b) = (free_addr(), free_addr());
    let balancer = balancer::start(vec![a, b]).await;
    let options = Options {
        set_up: true,
        roster: Some(roster(true)),
        database: Some(db.url.clone()),
        public_url: Some(format!("http://{}", balancer.addr)),
        ..Options::default()
    };
    let first = TestApp::start_with(
        &dir.path().join("a"),
        clock.clone(),
        &options,
        shiftline::app::start_simulator(&common::settings(dir.path(), &options), clock.clone())
            .await
            .unwrap(),
        a,
    )
    .await;
    let sim = first.sim.clone();
    let second = TestApp::start_with(&dir.path().join("b"), clock.clone(), &options, sim, b).await;
    let cluster = Cluster {
        apps: vec![first, second],
        balancer: Some(balancer),
        turn: 0,
    };
    a_day(cluster, &clock, Some(CALLS / 2), true).await;
}

fn morning() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 14, 0, 0).unwrap()
}

/// The day itself, on `cluster`; its first instance dies just before call `kill_at`.
async fn a_day(mut cluster: Cluster, clock: &ManualClock, kill_at: Option<usize>, callbacks: bool) {
    use shiftline::clock::Clock;
    let mut sid = 0;
    let mut next_sid = || {
        sid += 1;
        format!("SM{sid:032}")
    };
    for i in 0..WORKERS {
        let answers = behaviour(i)
            .iter()
            .map(|a| Answer::parse(a).unwrap())
            .collect();
        cluster.app().sim.script_phone(&worker(i), answers);
        for body in ["on", skills(i), "yes"] {
            cluster.sms(&worker(i), body, &next_sid()).await;
        }
    }
    cluster.settle().await;

    // The shortened call SIDs the simulator logs: what answered each, who was bridged, and
    // when each customer's own call was first bridged to a worker.
    let mut answered_by: HashMap<String, String> = HashMap::new();
    let mut bridged_to_machine = Vec::new();
    let mut bridges = 0;
    let mut bridged_at: HashMap<String, chrono::DateTime<Utc>> = HashMap::new();
    let mut watch = |sim: &twilio_sim::Simulator, now: chrono::DateTime<Utc>| {
        for line in sim.take_call_log() {
            let mut words = line.split_whitespace();
            let call = words.next().unwrap_or_default().to_string();
            if let Some(kind) = line.split(" answered by ").nth(1) {
                answered_by.insert(call.clone(), kind.to_string());
            }
            if let Some(rest) = line.split(" bridged with ").nth(1) {
                bridges += 1;
                if answered_by.get(&call).map(String::as_str) != Some("human") {
                    bridged_to_machine.push(line.clone());
                }
                let other = rest.split_whitespace().next().unwrap_or_default();
                for leg in [call.as_str(), other] {
                    bridged_at.entry(leg.to_string()).or_insert(now);
                }
            }
        }
    };

    let mut customers = Vec::new();
    let mut called_at = HashMap::new();
    let business = cluster.app().state.settings.business_number().to_string();
    let url = format!("{}/twilio/voice/customer", cluster.app().public_url());
    let sim = cluster.app().sim.clone();
    for call in 0..CALLS {
        if kill_at == Some(call) {
            cluster.kill_one().await;
        }
        let from = format!("+1555800{call:04}");
        let digit = ["1", "2", "3"][call % 3];
        // One caller in five asks for a callback as soon as they may; one customer in ten
        // misses the first call back.
        let asks = if call % 5 == 4 { "/1" } else { "" };
        let mut answers = vec![Answer::parse(&format!("human:{digit}{asks}")).unwrap()];
        if call % 10 == 7 {
            answers.push(Answer::parse("no-answer").unwrap());
        }
        answers.push(Answer::parse("human").unwrap());
        sim.script_phone(&from, answers);
        let sid = sim.place_call(&from, &business, &url);
        called_at.insert(sid.clone(), clock.now());
        customers.push(sid);
        // Workers taken offline after missed calls come back every five minutes or so.
        if call % 100 == 99 {
            for i in 0..WORKERS {
                cluster.sms(&worker(i), "on", &next_sid()).await;
            }
        }
        // A call every 3 seconds: more than 30 workers can take, so some callers wait past
        // the queue's limit and go to voicemail.
        for _ in 0..3 {
            clock.advance(TimeDelta::seconds(1));
            cluster.settle().await;
            watch(&sim, clock.now());
        }
    }
    // The evening: calls end, callbacks are returned (a retry comes 10 minutes later).
    for step in 0..1500 {
        clock.advance(TimeDelta::seconds(if step < 900 { 1 } else { 2 }));
        cluster.settle().await;
        watch(&sim, clock.now());
    }

    // Which customer calls reached a person, live or called back, and which did not.
    let app = cluster.app();
    let tasks = app.sim.tasks();
    let task_of_call: HashMap<String, &twilio_sim::SimTask> = tasks
        .iter()
        .filter_map(|t| {
            t.attributes
                .get("call_sid")
                .and_then(|c| c.as_str())
                .map(|c| (c.to_string(), t))
        })
        .collect();
    let recordings = app.sim.recordings();
    let recorded: HashSet<&str> = recordings.iter().map(|r| r.call_sid.as_str()).collect();
    let requests = app.state.store.callbacks().await.unwrap();
    let request_of: HashMap<&str, &shiftline::core::callback::CallbackRecord> =
        requests.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut figures = Figures::default();
    let mut lost = Vec::new();
    for call in &customers {
        let accepted = task_of_call.get(call).is_some_and(|t| {
            t.reservations
                .iter()
                .any(|r| r.status == "accepted" || r.status == "completed")
        });
        let request = request_of.get(call.as_str());
        let returned = request.and_then(|r| {
            r.attempts
                .iter()
                .find(|a| a.outcome == shiftline::core::callback::DialOutcome::Answered)
                .map(|a| a.at - TimeDelta::seconds(i64::from(a.talk_secs)))
        });
        let reached = if accepted {
            figures.live += 1;
            bridged_at.get(&short(call)).copied()
        } else if let Some(at) = returned {
            figures.called_back += 1;
            Some(at)
        } else {
            if recorded.contains(call.as_str()) {
                figures.voicemail_only += 1;
            } else if request.is_some() {
                figures.callback_not_returned += 1;
            } else {
                lost.push(call.clone());
            }
            None
        };
        if let Some(at) = reached {
            figures.waits.push((at - called_at[call]).num_seconds());
        }
    }
    let open = requests.iter().filter(|r| r.status.is_open()).count();
    let abandoned = requests
        .iter()
        .filter(|r| r.status == shiftline::core::callback::Status::Abandoned)
        .count();
    let reservations: Vec<&twilio_sim::SimReservation> =
        tasks.iter().flat_map(|t| &t.reservations).collect();
    let count = |status: &str| reservations.iter().filter(|r| r.status == status).count();
    let voicemails = app.state.store.voicemails().await.unwrap();
    let announced = app
        .sim
        .messages()
        .iter()
        .filter(|m| m.to == "+15550009999" && m.body.starts_with("New voicemail"))
        .count();
    let texts_to_workers = app
        .sim
        .messages()
        .iter()
        .filter(|m| m.to.starts_with("+1555100"))
        .count();
    let parked = app.state.store.parked().await.unwrap();

    let instances = match kill_at {
        Some(call) => format!("two instances on PostgreSQL, one killed before call {call}"),
        None => "one instance on sled".to_string(),
    };
    let switch = if callbacks { "on" } else { "off" };
    println!(
        "simulated day ({instances}, callbacks {switch}): {WORKERS} workers, {CALLS} customer calls"
    );
    println!(
        "  reached a person: {} live, {} called back; not reached: {} left a voicemail, {} asked for a callback not returned; lost: {}",
        figures.live,
        figures.called_back,
        figures.voicemail_only,
        figures.callback_not_returned,
        lost.len()
    );
    println!(
        "  callers nobody reached: {}; time to a person: average {} s, median {} s, p90 {} s",
        figures.voicemail_only + figures.callback_not_returned + lost.len(),
        figures.average_wait(),
        figures.percentile(50),
        figures.percentile(90),
    );
    println!(
        "  callbacks: {} requested, {} returned, {abandoned} abandoned, {open} still open",
        requests.len(),
        figures.called_back
    );
    println!(
        "  bridges: {bridges}, bridged to a machine: {}",
        bridged_to_machine.len()
    );
    println!(
        "  reservations: {} accepted/completed, {} rejected, {} canceled, {} timed out, {} still pending",
        count("accepted") + count("completed"),
        count("rejected"),
        count("canceled"),
        count("timeout"),
        count("pending")
    );
    println!(
        "  voicemails: {} recorded, {} stored, {announced} announced",
        recordings.len(),
        voicemails.len()
    );
    println!(
        "  workers texted after missed calls: {texts_to_workers}; parked commands: {}",
        parked.len()
    );

    assert!(
        bridged_to_machine.is_empty(),
        "customers bridged to a machine: {bridged_to_machine:#?}"
    );
    assert_eq!(
        count("timeout"),
        0,
        "no reservation may be left to time out"
    );
    assert_eq!(count("pending"), 0, "no reservation may stay pending");
    let lost_detail: Vec<String> = lost
        .iter()
        .map(|call| match task_of_call.get(call) {
            Some(task) => format!(
                "{call}: task {} {:?}",
                task.assignment_status,
                task.reservations
                    .iter()
                    .map(|r| &r.status)
                    .collect::<Vec<_>>()
            ),
            None => format!("{call}: no task"),
        })
        .collect();
    assert!(
        lost.is_empty(),
        "callers who reached nobody, left no voicemail and asked for no callback: {lost_detail:#?}"
    );
    assert_eq!(
        voicemails.len(),
        recordings.len(),
        "every recording is stored"
    );
    assert_eq!(announced, voicemails.len(), "every voicemail is announced");
    assert!(
        figures.live > CALLS / 2,
        "most callers should reach a person: {}",
        figures.live
    );
    if callbacks {
        assert_eq!(open, 0, "every callback request is closed by the evening");
        assert_eq!(
            figures.voicemail_only + figures.callback_not_returned,
            abandoned,
            "a caller nobody reached is only one whose callback was abandoned"
        );
        assert!(
            figures.called_back > 0,
            "the day is busy enough that some callers are called back"
        );
    } else {
        assert!(
            figures.voicemail_only > 0,
            "the day is busy enough that some callers leave a voicemail"
        );
        assert!(requests.is_empty(), "no callback without callbacks");
    }
    assert!(
        parked.is_empty(),
        "nothing should be refused by Twilio: {parked:#?}"
    );
    for app in cluster.apps {
        app.stop().await;
    }
}

/// What happened to the day's callers.
#[derive(Default)]
struct Figures {
    live: usize,
    called_back: usize,
    voicemail_only: usize,
    callback_not_returned: usize,
    /// Seconds from each reached caller's call to the person who took it (live or back).
    waits: Vec<i64>,
}

impl Figures {
    fn average_wait(&self) -> i64 {
        let n = i64::try_from(self.waits.len().max(1)).unwrap();
        self.waits.iter().sum::<i64>() / n
    }

    fn percentile(&self, p: usize) -> i64 {
        let mut waits = self.waits.clone();
        waits.sort_unstable();
        waits
            .get((waits.len() * p / 100).min(waits.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    }
}

/// `CA000…0012` as the simulator's call log shows it, `CA..12`.
fn short(sid: &str) -> String {
    format!("{}..{:0>2}", &sid[..2], sid[2..].trim_start_matches('0'))
}
