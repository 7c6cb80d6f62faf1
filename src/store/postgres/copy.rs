//! Everything in the database, out and in, for `shiftline store copy`.

use deadpool_postgres::Client;
use tokio_postgres::types::Json;

use super::{PgStore, db, lanes};
use crate::core::domain::PhoneNumber;
use crate::core::intake::enrol::PinAttempts;
use crate::store::{PresenceChange, SeenEvent, Snapshot, StoreError};

pub async fn export(store: &PgStore) -> Result<Snapshot, StoreError> {
    let client = store.client().await?;
    let mut snapshot = Snapshot {
        workers: store
            .all("SELECT record FROM workers ORDER BY phone", &[])
            .await?,
        outbox: store
            .all("SELECT entry FROM outbox ORDER BY id", &[])
            .await?,
        parked: store
            .all("SELECT record FROM parked ORDER BY id", &[])
            .await?,
        timers: store
            .all("SELECT timer FROM timers ORDER BY due, id", &[])
            .await?,
        dispatch: store
            .all("SELECT record FROM dispatch ORDER BY reservation_sid", &[])
            .await?,
        voicemails: store
            .all(
                "SELECT record FROM voicemails ORDER BY at, recording_sid",
                &[],
            )
            .await?,
        callbacks: store
            .all(
                "SELECT record FROM callbacks ORDER BY requested_at, id",
                &[],
            )
            .await?,
        ..Snapshot::default()
    };
    let phone = |raw: &str| PhoneNumber::parse(raw).map_err(StoreError::Codec);
    for row in client
        .query("SELECT phone, attempts FROM pins ORDER BY phone", &[])
        .await
        .map_err(db)?
    {
        let attempts: Json<PinAttempts> = row.get(1);
        snapshot.pins.push((phone(row.get(0))?, attempts.0));
    }
    for row in client
        .query(
            "SELECT event_id, reply, at FROM seen ORDER BY event_id",
            &[],
        )
        .await
        .map_err(db)?
    {
        snapshot.seen.push(SeenEvent {
            event_id: row.get(0),
            reply: row.get(1),
            at: row.get(2),
        });
    }
    for row in client
        .query("SELECT phone, change FROM history ORDER BY phone, id", &[])
        .await
        .map_err(db)?
    {
        let who = phone(row.get(0))?;
        let change: Json<PresenceChange> = row.get(1);
        match snapshot.history.last_mut() {
            Some((last, changes)) if *last == who => changes.push(change.0),
            _ => snapshot.history.push((who, vec![change.0])),
        }
    }
    Ok(snapshot)
}

pub async fn import(client: &mut Client, snapshot: &Snapshot) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    let held: i64 = tx
        .query_one(
            "SELECT (SELECT count(*) FROM workers) + (SELECT count(*) FROM pins)
                  + (SELECT count(*) FROM seen) + (SELECT count(*) FROM outbox)
                  + (SELECT count(*) FROM parked) + (SELECT count(*) FROM timers)
                  + (SELECT count(*) FROM dispatch) + (SELECT count(*) FROM voicemails)
                  + (SELECT count(*) FROM history) + (SELECT count(*) FROM callbacks)",
            &[],
        )
        .await
        .map_err(db)?
        .get(0);
    if held > 0 {
        return Err(StoreError::Backend(
            "the database to copy into is not empty".to_string(),
        ));
    }
    let id = |n: u64| i64::try_from(n).map_err(db);
    for worker in &snapshot.workers {
        tx.execute(
            "INSERT INTO workers (phone, record) VALUES ($1, $2)",
            &[&worker.phone.as_str(), &Json(worker)],
        )
        .await
        .map_err(db)?;
    }
    for (phone, attempts) in &snapshot.pins {
        tx.execute(
            "INSERT INTO pins (phone, attempts) VALUES ($1, $2)",
            &[&phone.as_str(), &Json(attempts)],
        )
        .await
        .map_err(db)?;
    }
    for seen in &snapshot.seen {
        tx.execute(
            "INSERT INTO seen (event_id, reply, at) VALUES ($1, $2, $3)",
            &[&seen.event_id, &seen.reply, &seen.at],
        )
        .await
        .map_err(db)?;
    }
    for entry in &snapshot.outbox {
        lanes::add(&tx, entry).await?;
    }
    // Entries waiting on a backoff: their columns and their lanes' places follow them.
    tx.batch_execute(
        "UPDATE outbox SET failing = (entry->>'attempts')::int > 0;
         UPDATE lanes l SET head = o.id, due = coalesce(o.not_before, 'epoch')
         FROM (SELECT DISTINCT ON (lane) lane, id, not_before FROM outbox ORDER BY lane, id) o
         WHERE l.lane = o.lane;",
    )
    .await
    .map_err(db)?;
    for parked in &snapshot.parked {
        tx.execute(
            "INSERT INTO parked (id, record) VALUES ($1, $2)",
            &[&id(parked.entry.id)?, &Json(parked)],
        )
        .await
        .map_err(db)?;
    }
    for timer in &snapshot.timers {
        tx.execute(
            "INSERT INTO timers (id, due, timer) VALUES ($1, $2, $3)",
            &[&id(timer.id)?, &timer.due, &Json(timer)],
        )
        .await
        .map_err(db)?;
    }
    for record in &snapshot.dispatch {
        tx.execute(
            "INSERT INTO dispatch (reservation_sid, record) VALUES ($1, $2)",
            &[&record.reservation_sid.as_str(), &Json(record)],
        )
        .await
        .map_err(db)?;
    }
    for voicemail in &snapshot.voicemails {
        tx.execute(
            "INSERT INTO voicemails (recording_sid, at, record) VALUES ($1, $2, $3)",
            &[&voicemail.recording_sid, &voicemail.at, &Json(voicemail)],
        )
        .await
        .map_err(db)?;
    }
    for record in &snapshot.callbacks {
        tx.execute(
            "INSERT INTO callbacks (id, requested_at, record) VALUES ($1, $2, $3)",
            &[&record.id, &record.requested_at, &Json(record)],
        )
        .await
        .map_err(db)?;
    }
    for (phone, changes) in &snapshot.history {
        for change in changes {
            tx.execute(
                "INSERT INTO history (phone, change) VALUES ($1, $2)",
                &[&phone.as_str(), &Json(change)],
            )
            .await
            .map_err(db)?;
        }
    }
    // New ids must come after the copied ones.
    let last = id(snapshot.last_id())?;
    if last > 0 {
        tx.execute("SELECT setval('command_ids', $1)", &[&last])
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(())
}
