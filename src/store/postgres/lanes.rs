//! The shared outbox: entries in `outbox`, one row per lane in `lanes` with its place in
//! the delivery order and its holder.
//!
//! A lane's row is changed only while its row lock is held (`FOR UPDATE`, or the upsert's
//! own lock), so writers adding to a lane and the holder finishing a claim take turns; a
//! lane's head, due time and priority are recomputed from `outbox` under that lock.

use chrono::{DateTime, Utc};
use deadpool_postgres::{Client, Transaction};
use tokio_postgres::types::Json;

use super::{LEASE, db};
use crate::core::effects::{Command, Priority};
use crate::store::{Claim, OutboxEntry, ParkedEntry, StoreError};

/// A lane's `due` when its head may go at once: before any real time.
fn at_once() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

fn id(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(db)
}

/// Writes an entry and puts its lane in the delivery order (or moves it up: a lane goes
/// at the most urgent priority it holds). A new lane is due when its first entry is (a
/// command meant for later waits until its `not_before`); an existing lane keeps the due
/// time of its head, unless this entry becomes its head (written by a transaction that
/// took its id earlier but committed later).
pub async fn add(tx: &Transaction<'_>, entry: &OutboxEntry) -> Result<(), StoreError> {
    let lane = entry.command.lane();
    let priority = entry.command.priority() as i16;
    tx.execute(
        "INSERT INTO outbox (id, lane, priority, enqueued_at, not_before, entry)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &id(entry.id)?,
            &lane,
            &priority,
            &entry.enqueued_at,
            &entry.not_before,
            &Json(entry),
        ],
    )
    .await
    .map_err(db)?;
    tx.execute(
        "INSERT INTO lanes (lane, head, due, priority) VALUES ($1, $2, $3, $4)
         ON CONFLICT (lane) DO UPDATE SET
             head = least(lanes.head, EXCLUDED.head),
             due = CASE WHEN EXCLUDED.head < lanes.head THEN EXCLUDED.due ELSE lanes.due END,
             priority = least(lanes.priority, EXCLUDED.priority)",
        &[
            &lane,
            &id(entry.id)?,
            &entry.not_before.unwrap_or_else(at_once),
            &priority,
        ],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// A new sync makes the untried syncs waiting at the end of its lane pointless (each
/// carries the worker's whole desired state): they are deleted in the writer's
/// transaction, and `entry` takes on what they had to do and the oldest one's id (so the
/// worker keeps their place in the delivery order), as the embedded store does. Only
/// after what the lane held when its holder took it (`claimed_through`): its row is
/// locked first, so no claim can take them meanwhile. Call it just before `add`, in the
/// same lane order.
pub async fn supersede(tx: &Transaction<'_>, entry: &mut OutboxEntry) -> Result<(), StoreError> {
    if !entry.command.is_sync() {
        return Ok(());
    }
    let lane = entry.command.lane();
    // One round trip: the lane's row is locked by the CTE; with no row, nothing waits
    // (`after` is NULL and nothing goes).
    let rows = tx
        .query(
            "WITH held AS (
                 SELECT CASE WHEN lease_until IS NULL THEN 0 ELSE claimed_through END AS after
                 FROM lanes WHERE lane = $1 FOR UPDATE)
             DELETE FROM outbox WHERE lane = $1 AND id > (SELECT after FROM held)
               AND id > coalesce(
                 (SELECT max(id) FROM outbox WHERE lane = $1
                    AND (entry->'command'->>'command' <> 'sync_worker'
                         OR failing OR not_before IS NOT NULL)), 0)
             RETURNING entry",
            &[&lane],
        )
        .await
        .map_err(db)?;
    let mut older: Vec<OutboxEntry> = rows
        .iter()
        .map(|row| row.get::<_, Json<OutboxEntry>>(0).0)
        .collect();
    older.sort_by_key(|e| e.id);
    let run = older.iter().map(|e| &e.command).chain([&entry.command]);
    if let Some(command) = Command::coalesce_syncs(run) {
        entry.command = command;
    }
    if let Some(oldest) = older.first() {
        entry.id = oldest.id;
    }
    Ok(())
}

/// Takes up to `limit` due lanes nobody holds (or whose holder's lease ran out), most
/// urgent first, for `instance` until its lease ends. `SKIP LOCKED` lets two instances
/// claim at once without waiting for each other or taking the same lane.
pub async fn claim(
    client: &Client,
    instance: &str,
    now: DateTime<Utc>,
    limit: usize,
    at_most: Priority,
) -> Result<Vec<Claim>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = client
        .query(
            "UPDATE lanes l SET claimed_by = $1, lease_until = $2,
                 claimed_through = (SELECT max(id) FROM outbox o WHERE o.lane = l.lane)
             FROM (SELECT lane FROM lanes
                   WHERE due <= $3 AND (lease_until IS NULL OR lease_until < $3)
                     AND priority <= $5
                   ORDER BY priority, due, head
                   LIMIT $4
                   FOR UPDATE SKIP LOCKED) pick
             WHERE l.lane = pick.lane
             RETURNING l.lane, l.priority, l.due, l.head",
            &[&instance, &(now + LEASE), &now, &limit, &(at_most as i16)],
        )
        .await
        .map_err(db)?;
    let mut taken: Vec<(i16, DateTime<Utc>, i64, String)> = rows
        .iter()
        .map(|r| (r.get(1), r.get(2), r.get(3), r.get(0)))
        .collect();
    taken.sort();
    let names: Vec<&str> = taken.iter().map(|t| t.3.as_str()).collect();
    let entries = client
        .query(
            "SELECT lane, entry FROM outbox WHERE lane = ANY($1) ORDER BY lane, id",
            &[&names],
        )
        .await
        .map_err(db)?;
    let mut claims = Vec::new();
    for (priority, _, _, lane) in taken {
        let mut run: Vec<OutboxEntry> = Vec::new();
        // A run of syncs coalesces; anything else goes alone.
        for row in entries.iter().filter(|r| r.get::<_, &str>(0) == lane) {
            let entry = row.get::<_, Json<OutboxEntry>>(1).0;
            let joins = match run.first() {
                None => true,
                Some(head) => head.command.is_sync() && entry.command.is_sync(),
            };
            if !joins {
                break;
            }
            let single = !entry.command.is_sync();
            run.push(entry);
            if single {
                break;
            }
        }
        claims.push(Claim {
            lane,
            urgent: priority == Priority::Customer as i16,
            entries: run,
        });
    }
    Ok(claims)
}

/// How a claim ended.
pub enum Outcome<'a> {
    Delivered,
    Retry {
        not_before: DateTime<Utc>,
        error: &'a str,
    },
    Parked {
        error: &'a str,
        now: DateTime<Utc>,
    },
    Untouched,
}

/// Ends a claim: its entries go (delivered, parked) or wait (retry), the lane's place is
/// recomputed and the lane is let go, in one transaction.
pub async fn finish(
    client: &mut Client,
    instance: &str,
    claim: &Claim,
    outcome: Outcome<'_>,
) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    tx.execute(
        "SELECT 1 FROM lanes WHERE lane = $1 FOR UPDATE",
        &[&claim.lane],
    )
    .await
    .map_err(db)?;
    let ids: Vec<i64> = claim
        .entries
        .iter()
        .map(|e| id(e.id))
        .collect::<Result<_, _>>()?;
    match outcome {
        Outcome::Delivered => {
            tx.execute("DELETE FROM outbox WHERE id = ANY($1)", &[&ids])
                .await
                .map_err(db)?;
        }
        Outcome::Retry { not_before, error } => {
            if let Some(head) = claim.entries.first() {
                let mut entry = head.clone();
                entry.attempts += 1;
                entry.not_before = Some(not_before);
                entry.last_error = Some(error.to_string());
                tx.execute(
                    "UPDATE outbox SET not_before = $2, failing = TRUE, entry = $3 WHERE id = $1",
                    &[&id(head.id)?, &not_before, &Json(&entry)],
                )
                .await
                .map_err(db)?;
            }
        }
        Outcome::Parked { error, now } => {
            for entry in &claim.entries {
                let record = ParkedEntry {
                    entry: entry.clone(),
                    parked_at: now,
                    error: error.to_string(),
                };
                tx.execute(
                    "INSERT INTO parked (id, record) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                    &[&id(entry.id)?, &Json(&record)],
                )
                .await
                .map_err(db)?;
            }
            tx.execute("DELETE FROM outbox WHERE id = ANY($1)", &[&ids])
                .await
                .map_err(db)?;
        }
        Outcome::Untouched => {}
    }
    requeue(&tx, &claim.lane, instance).await?;
    tx.commit().await.map_err(db)?;
    Ok(())
}

/// Recomputes a locked lane's place from its entries and lets it go (if `instance` holds
/// it), or drops it when it has none left.
async fn requeue(tx: &Transaction<'_>, lane: &str, instance: &str) -> Result<(), StoreError> {
    let row = tx
        .query_one(
            "SELECT min(id), min(priority),
                    (SELECT not_before FROM outbox WHERE lane = $1 ORDER BY id LIMIT 1)
             FROM outbox WHERE lane = $1",
            &[&lane],
        )
        .await
        .map_err(db)?;
    let head: Option<i64> = row.get(0);
    let Some(head) = head else {
        tx.execute("DELETE FROM lanes WHERE lane = $1", &[&lane])
            .await
            .map_err(db)?;
        return Ok(());
    };
    let priority: i16 = row.get(1);
    let due: Option<DateTime<Utc>> = row.get(2);
    tx.execute(
        "UPDATE lanes SET head = $2, priority = $3, due = $4,
             claimed_by = CASE WHEN claimed_by = $5 THEN NULL ELSE claimed_by END,
             lease_until = CASE WHEN claimed_by = $5 THEN NULL ELSE lease_until END,
             claimed_through = CASE WHEN claimed_by = $5 THEN NULL ELSE claimed_through END
         WHERE lane = $1",
        &[
            &lane,
            &head,
            &priority,
            &due.unwrap_or_else(at_once),
            &instance,
        ],
    )
    .await
    .map_err(db)?;
    Ok(())
}
