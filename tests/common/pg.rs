//! A fresh PostgreSQL schema per test, on the server the tests are given.
//!
//! The server is `SHIFTLINE_TEST_DATABASE_URL`, or the development machines' own
//! (`postgres://root@127.0.0.1:5432/test`). When nothing answers, PostgreSQL tests are
//! skipped with a loud line on stderr, except under `CI=true`, where that is a failure.

use std::sync::Once;

pub const DEFAULT_URL: &str = "postgres://root@127.0.0.1:5432/test";

/// A schema of its own on the test server; dropped (with everything in it) on drop.
pub struct TestDatabase {
    /// The server's URL with the schema as the connection's search path.
    pub url: String,
    base: String,
    schema: String,
}

fn server() -> String {
    std::env::var("SHIFTLINE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

impl TestDatabase {
    /// A new empty schema, or None (after saying so) when no server answers outside CI.
    pub async fn create() -> Option<Self> {
        let base = server();
        let client = match connect(&base).await {
            Ok(client) => client,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true and no PostgreSQL answers at {base}: {e}");
                }
                static SAID: Once = Once::new();
                SAID.call_once(|| {
                    eprintln!(
                        "\n*** SKIPPING the PostgreSQL tests: nothing answers at {base} ({e}).\n\
                         *** Start PostgreSQL or set SHIFTLINE_TEST_DATABASE_URL to run them.\n"
                    )
                });
                return None;
            }
        };
        let schema = format!("shiftline_test_{:016x}", rand::random::<u64>());
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create the test schema");
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
        Some(Self { url, base, schema })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs outside any runtime the test may still hold: use a thread of its own.
        let (base, schema) = (self.base.clone(), self.schema.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok(client) = connect(&base).await {
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}
