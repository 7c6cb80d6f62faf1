//! The realism knobs over real HTTP, through the public API only: each does what it says
//! to a client that talks to the simulator as shiftline does.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use twilio_sim::{Realism, Simulator, SimulatorConfig, system_time};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const WORKSPACE: &str = "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const TOKEN: &str = "realism-test-token";

fn config(realism: Realism) -> SimulatorConfig {
    SimulatorConfig {
        account_sid: ACCOUNT.into(),
        workspace_sid: WORKSPACE.into(),
        auth_token: TOKEN.into(),
        clock: system_time(),
        realism,
    }
}

async fn simulator(realism: Realism) -> Simulator {
    Simulator::start(config(realism)).await.unwrap()
}

/// GET the workspace, as shiftline's client would.
fn get_workspace(client: &reqwest::Client, sim: &Simulator) -> reqwest::RequestBuilder {
    client
        .get(format!("{}/v1/Workspaces/{WORKSPACE}", sim.base_url()))
        .basic_auth(ACCOUNT, Some(TOKEN))
}

fn create_activity(client: &reqwest::Client, sim: &Simulator) -> reqwest::RequestBuilder {
    client
        .post(format!(
            "{}/v1/Workspaces/{WORKSPACE}/Activities",
            sim.base_url()
        ))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .form(&[("FriendlyName", "Available"), ("Available", "true")])
}

async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn with_no_knobs_turned_answers_come_at_once() {
    let sim = simulator(Realism::default()).await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(status_of(get_workspace(&client, &sim)).await, 200);
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let sim = simulator(Realism {
        latency_ms: 50,
        ..Realism::default()
    })
    .await;
    let client = reqwest::Client::new();
    for request in [
        get_workspace(&client, &sim),
        // Refusals take as long: the time is the network's and Twilio's, not the answer's.
        client.get(format!("{}/v1/Workspaces/{WORKSPACE}", sim.base_url())),
    ] {
        let started = Instant::now();
        request.send().await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(50));
    }
}

#[tokio::test]
async fn slow_answers_overlap_instead_of_queueing() {
    let sim = simulator(Realism {
        latency_ms: 300,
        ..Realism::default()
    })
    .await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let answers = all_at_once((0..5).map(|_| status_of(get_workspace(&client, &sim)))).await;
    let elapsed = started.elapsed();
    assert_eq!(answers, vec![200; 5]);
    assert!(elapsed >= Duration::from_millis(300));
    // Five sleeps in a row would be 1.5 s: the latency is slept outside the state lock.
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
}

#[tokio::test]
async fn jitter_adds_up_to_its_bound() {
    let sim = simulator(Realism {
        latency_ms: 20,
        jitter_ms: 60,
        seed: 3,
        ..Realism::default()
    })
    .await;
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(status_of(get_workspace(&client, &sim)).await, 200);
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
        // 80 ms at most, and room for a slow test machine.
        assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
    }
}

#[tokio::test]
async fn the_request_over_the_rate_limit_gets_429_with_retry_after() {
    let sim = simulator(Realism {
        rps_limit: Some(5),
        ..Realism::default()
    })
    .await;
    let client = reqwest::Client::new();
    for _ in 0..5 {
        assert_eq!(status_of(get_workspace(&client, &sim)).await, 200);
    }
    let sixth = get_workspace(&client, &sim).send().await.unwrap();
    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = sixth.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry_after, 1);
    let body: Value = sixth.json().await.unwrap();
    assert_eq!(body["code"], 20429);
    assert_eq!(body["status"], 429);
    assert!(body["more_info"].as_str().unwrap().ends_with("/20429"));

    // The refusal is recorded like any answer, and after Retry-After the account may
    // send again.
    let recorded = sim.take_requests();
    assert_eq!(recorded.len(), 6);
    assert!(recorded[5].describe().ends_with(" -> 429"));
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(status_of(get_workspace(&client, &sim)).await, 200);
}

#[tokio::test]
async fn an_error_rate_of_one_fails_every_request_and_applies_none() {
    let sim = simulator(Realism {
        error_rate: 1.0,
        ..Realism::default()
    })
    .await;
    let client = reqwest::Client::new();
    let answer = create_activity(&client, &sim).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], 20500);
    assert_eq!(body["status"], 500);

    sim.set_realism(Realism::default()).unwrap();
    let list: Value = client
        .get(format!(
            "{}/v1/Workspaces/{WORKSPACE}/Activities",
            sim.base_url()
        ))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["activities"], Value::Array(vec![]), "{list}");
}

#[tokio::test]
async fn a_hung_request_times_out_in_the_client() {
    let sim = simulator(Realism {
        hang_rate: 1.0,
        ..Realism::default()
    })
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = create_activity(&client, &sim).send().await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() >= Duration::from_millis(200));

    // Nothing was applied or recorded, and the simulator still answers others.
    sim.set_realism(Realism::default()).unwrap();
    assert!(sim.take_requests().is_empty());
    assert_eq!(status_of(get_workspace(&client, &sim)).await, 200);
}

#[tokio::test]
async fn the_same_seed_fails_the_same_requests() {
    let realism = Realism {
        error_rate: 0.5,
        seed: 42,
        ..Realism::default()
    };
    let client = reqwest::Client::new();
    let mut runs = Vec::new();
    for realism in [
        realism.clone(),
        realism.clone(),
        Realism {
            seed: 43,
            ..realism
        },
    ] {
        let sim = simulator(realism).await;
        let mut statuses = Vec::new();
        for _ in 0..32 {
            statuses.push(status_of(get_workspace(&client, &sim)).await);
        }
        assert!(statuses.contains(&200) && statuses.contains(&500));
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0], runs[2]);
}

#[tokio::test]
async fn impossible_knobs_are_refused() {
    let error = Simulator::start(config(Realism {
        error_rate: 2.0,
        ..Realism::default()
    }))
    .await
    .err()
    .expect("an error rate of 2 is refused");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);

    let sim = simulator(Realism::default()).await;
    assert!(
        sim.set_realism(Realism {
            rps_limit: Some(0),
            ..Realism::default()
        })
        .is_err()
    );
}

/// Runs `futures` at the same time; their outputs in order.
async fn all_at_once<F: std::future::Future<Output = u16> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
