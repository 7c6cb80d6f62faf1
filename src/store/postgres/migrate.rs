//! Versioned schema migrations, embedded in the binary, run when the store opens (and alone
//! by `shiftline store migrate`).
//!
//! Two instances starting at once are safe: the migrations run in one transaction that
//! first takes a database-wide advisory lock, so the second instance waits, then finds the
//! versions recorded and applies nothing. DDL is transactional in PostgreSQL, so a failed
//! migration leaves the schema as it was.

use deadpool_postgres::Client;

use super::db;
use crate::store::StoreError;

/// Every migration, in order: (version, name, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "initial", include_str!("migrations/0001_initial.sql")),
    (
        2,
        "priorities",
        include_str!("migrations/0002_priorities.sql"),
    ),
    (
        3,
        "callbacks",
        include_str!("migrations/0003_callbacks.sql"),
    ),
    (
        4,
        "claimed_through",
        include_str!("migrations/0004_claimed_through.sql"),
    ),
];

/// The advisory lock key migrations hold ("SHIFTLIN" in ASCII).
const LOCK: i64 = 0x5348_4946_544c_494e;

/// Applies the migrations this database lacks; returns the versions applied.
pub async fn run(client: &mut Client) -> Result<Vec<i32>, StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await
        .map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(db)?;
    let applied: Vec<i32> = tx
        .query("SELECT version FROM schema_migrations", &[])
        .await
        .map_err(db)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let known = MIGRATIONS.last().map_or(0, |(version, _, _)| *version);
    if let Some(newer) = applied.iter().find(|v| **v > known) {
        return Err(StoreError::Backend(format!(
            "the database is at schema version {newer}, newer than this shiftline knows ({known}): run a newer shiftline"
        )));
    }
    let mut ran = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tx.batch_execute(sql).await.map_err(db)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await
        .map_err(db)?;
        ran.push(*version);
    }
    tx.commit().await.map_err(db)?;
    Ok(ran)
}
