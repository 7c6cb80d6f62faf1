//! The baseline for the intake benchmark: a bare axum 0.8 server with one form handler
//! that parses the body and answers a small TwiML string. No signature check, no store,
//! no flush: what serving a webhook costs before shiftline does any work.
//!
//! ```text
//! cargo run --release --example bare_axum -- 127.0.0.1:18081
//! ```
//!
//! It answers `POST /twilio/sms` and `GET /healthz`.
//! Like `shiftline serve` it runs tokio's default multi-threaded runtime.

use axum::Form;
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{get, post};

async fn sms(Form(params): Form<Vec<(String, String)>>) -> impl IntoResponse {
    let body = params
        .iter()
        .find(|(k, _)| k == "Body")
        .map(|(_, v)| v.len())
        .unwrap_or_default();
    (
        [(CONTENT_TYPE, "text/xml; charset=utf-8")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Got {body} characters.</Message></Response>"
        ),
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8081".to_string());
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/twilio/sms", post(sms));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bare axum listening on {addr}");
    axum::serve(listener, app).await
}
