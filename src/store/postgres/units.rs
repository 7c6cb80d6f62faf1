//! Units of work: one transaction each, serialised per worker (and per reservation) by
//! transaction-scoped advisory locks taken before anything is read.

use chrono::{DateTime, Utc};
use deadpool_postgres::{Client, Transaction};
use tokio_postgres::types::{Json, ToSql};

use super::db;
use crate::core::callback::CallbackRecord;
use crate::core::domain::PhoneNumber;
use crate::core::effects::Command;
use crate::core::intake::PinUpdate;
use crate::core::intake::enrol::PinAttempts;
use crate::core::intake::record::WorkerRecord;
use crate::store::{
    Applied, CallbackUnit, DispatchUnit, OutboxEntry, PresenceChange, RecordChange, StoreError,
    TimerEntry, Via, VoicemailRecord, WorkerUnit,
};

/// Waits until no other transaction works on `key` (a worker's number, a reservation),
/// and keeps others waiting until this one ends.
async fn lock(tx: &Transaction<'_>, key: &str) -> Result<(), StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&key],
    )
    .await
    .map_err(db)?;
    Ok(())
}

fn worker_key(phone: &PhoneNumber) -> String {
    format!("worker:{phone}")
}

/// The reply stored for an event handled before, if any.
async fn seen_reply(
    tx: &Transaction<'_>,
    event_id: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let Some(id) = event_id else {
        return Ok(None);
    };
    let row = tx
        .query_opt("SELECT reply FROM seen WHERE event_id = $1", &[&id])
        .await
        .map_err(db)?;
    Ok(row.map(|r| r.get(0)))
}

async fn remember(
    tx: &Transaction<'_>,
    event_id: Option<&str>,
    reply: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Some(id) = event_id {
        tx.execute(
            "INSERT INTO seen (event_id, reply, at) VALUES ($1, $2, $3)
             ON CONFLICT (event_id) DO UPDATE SET reply = EXCLUDED.reply, at = EXCLUDED.at",
            &[&id, &reply, &now],
        )
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn read_worker(
    tx: &Transaction<'_>,
    phone: &PhoneNumber,
) -> Result<Option<WorkerRecord>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT record FROM workers WHERE phone = $1",
            &[&phone.as_str()],
        )
        .await
        .map_err(db)?;
    Ok(row.map(|r| r.get::<_, Json<WorkerRecord>>(0).0))
}

async fn put_worker(
    tx: &Transaction<'_>,
    old: Option<&WorkerRecord>,
    new: &WorkerRecord,
    via: Via,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO workers (phone, record) VALUES ($1, $2)
         ON CONFLICT (phone) DO UPDATE SET record = EXCLUDED.record",
        &[&new.phone.as_str(), &Json(new)],
    )
    .await
    .map_err(db)?;
    note_presence(tx, old, new, via, now).await
}

async fn note_presence(
    tx: &Transaction<'_>,
    old: Option<&WorkerRecord>,
    new: &WorkerRecord,
    via: Via,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Some(change) = PresenceChange::between(old, new, via, now) {
        tx.execute(
            "INSERT INTO history (phone, change) VALUES ($1, $2)",
            &[&new.phone.as_str(), &Json(&change)],
        )
        .await
        .map_err(db)?;
    }
    Ok(())
}

pub async fn apply_worker(client: &mut Client, unit: WorkerUnit) -> Result<Applied, StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    let phone = &unit.phone;
    let now = unit.now;
    lock(&tx, &worker_key(phone)).await?;
    if let Some(old) = seen_reply(&tx, unit.event_id.as_deref()).await? {
        return Ok(Applied::Replayed { reply: old });
    }
    if let Some(timer) = unit.timer {
        let id = i64::try_from(timer.id).map_err(db)?;
        let removed = tx
            .execute("DELETE FROM timers WHERE id = $1", &[&id])
            .await
            .map_err(db)?;
        if removed == 0 {
            // Fired already, here or on another instance: a timer acts once.
            return Ok(Applied::Replayed {
                reply: String::new(),
            });
        }
    }
    let record = read_worker(&tx, phone).await?;
    let attempts: Option<PinAttempts> = tx
        .query_opt(
            "SELECT attempts FROM pins WHERE phone = $1",
            &[&phone.as_str()],
        )
        .await
        .map_err(db)?
        .map(|r| r.get::<_, Json<PinAttempts>>(0).0);
    let change = (unit.decide)(record.as_ref(), attempts.as_ref());

    let after = match &change.record {
        RecordChange::Keep => record.clone(),
        RecordChange::Put(new) => {
            put_worker(&tx, record.as_ref(), new, unit.via, now).await?;
            Some(new.clone())
        }
        RecordChange::Delete(last) => {
            tx.execute("DELETE FROM workers WHERE phone = $1", &[&phone.as_str()])
                .await
                .map_err(db)?;
            note_presence(&tx, record.as_ref(), last, unit.via, now).await?;
            None
        }
    };
    match &change.pins {
        PinUpdate::Keep => {}
        PinUpdate::Set(a) => {
            tx.execute(
                "INSERT INTO pins (phone, attempts) VALUES ($1, $2)
                 ON CONFLICT (phone) DO UPDATE SET attempts = EXCLUDED.attempts",
                &[&phone.as_str(), &Json(a)],
            )
            .await
            .map_err(db)?;
        }
        PinUpdate::Clear => {
            tx.execute("DELETE FROM pins WHERE phone = $1", &[&phone.as_str()])
                .await
                .map_err(db)?;
        }
    }
    let written = write_commands(&tx, &change.commands, now).await?;
    // A number with no record and no PIN state keeps nothing, not even the id: an unknown
    // number's texts leave no trace in the store.
    let touched =
        record.is_some() || change.record != RecordChange::Keep || change.pins != PinUpdate::Keep;
    if touched {
        remember(&tx, unit.event_id.as_deref(), &change.reply, now).await?;
    }
    tx.commit().await.map_err(db)?;
    Ok(Applied::Fresh {
        reply: change.reply,
        outbox: written,
        before: record.map(Box::new),
        after: after.map(Box::new),
    })
}

pub async fn apply_dispatch(
    client: &mut Client,
    unit: DispatchUnit,
) -> Result<Applied, StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    let now = unit.now;
    // Always the worker first, then the reservation: the order every unit takes them in,
    // so two units never wait for each other.
    lock(&tx, &worker_key(&unit.worker)).await?;
    lock(&tx, &format!("reservation:{}", unit.reservation_sid)).await?;
    if let Some(old) = seen_reply(&tx, Some(&unit.event_id)).await? {
        return Ok(Applied::Replayed { reply: old });
    }
    let record = tx
        .query_opt(
            "SELECT record FROM dispatch WHERE reservation_sid = $1",
            &[&unit.reservation_sid],
        )
        .await
        .map_err(db)?
        .map(|r| r.get::<_, Json<crate::core::dispatch::DispatchRecord>>(0).0);
    let worker = read_worker(&tx, &unit.worker).await?;
    let change = (unit.decide)(record.as_ref(), worker.as_ref());
    if let Some(new) = &change.record {
        tx.execute(
            "INSERT INTO dispatch (reservation_sid, record) VALUES ($1, $2)
             ON CONFLICT (reservation_sid) DO UPDATE SET record = EXCLUDED.record",
            &[&unit.reservation_sid, &Json(new)],
        )
        .await
        .map_err(db)?;
    }
    if let Some(new) = &change.worker {
        put_worker(&tx, worker.as_ref(), new, Via::Dispatch, now).await?;
    }
    let written = write_commands(&tx, &change.commands, now).await?;
    remember(&tx, Some(&unit.event_id), &change.reply, now).await?;
    tx.commit().await.map_err(db)?;
    Ok(Applied::Fresh {
        reply: change.reply,
        outbox: written,
        before: worker.map(Box::new),
        after: change.worker.map(Box::new),
    })
}

pub async fn apply_callback(
    client: &mut Client,
    unit: CallbackUnit,
) -> Result<Applied, StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    let now = unit.now;
    lock(&tx, &format!("callback:{}", unit.id)).await?;
    if let Some(old) = seen_reply(&tx, Some(&unit.event_id)).await? {
        return Ok(Applied::Replayed { reply: old });
    }
    let record = tx
        .query_opt("SELECT record FROM callbacks WHERE id = $1", &[&unit.id])
        .await
        .map_err(db)?
        .map(|r| r.get::<_, Json<CallbackRecord>>(0).0);
    let change = (unit.decide)(record.as_ref());
    if let Some(new) = &change.record {
        tx.execute(
            "INSERT INTO callbacks (id, requested_at, record) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET
                 requested_at = EXCLUDED.requested_at, record = EXCLUDED.record",
            &[&unit.id, &new.requested_at, &Json(new)],
        )
        .await
        .map_err(db)?;
    }
    let written = write_commands(&tx, &change.commands, now).await?;
    remember(&tx, Some(&unit.event_id), &change.reply, now).await?;
    tx.commit().await.map_err(db)?;
    Ok(Applied::Fresh {
        reply: change.reply,
        outbox: written,
        before: None,
        after: None,
    })
}

pub async fn add_voicemail(
    client: &mut Client,
    voicemail: VoicemailRecord,
    commands: Vec<Command>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    once_with_commands(
        client,
        "INSERT INTO voicemails (recording_sid, at, record) VALUES ($1, $2, $3)
         ON CONFLICT (recording_sid) DO NOTHING",
        &[&voicemail.recording_sid, &voicemail.at, &Json(&voicemail)],
        &commands,
        now,
    )
    .await
}

pub async fn enqueue(
    client: &mut Client,
    event_id: &str,
    commands: Vec<Command>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    once_with_commands(
        client,
        "INSERT INTO seen (event_id, reply, at) VALUES ($1, '', $2)
         ON CONFLICT (event_id) DO NOTHING",
        &[&event_id, &now],
        &commands,
        now,
    )
    .await
}

/// Runs `insert` (an `INSERT ... ON CONFLICT DO NOTHING`) and, when it added its row,
/// writes `commands` in the same transaction. Returns whether the row was new.
async fn once_with_commands(
    client: &mut Client,
    insert: &str,
    params: &[&(dyn ToSql + Sync)],
    commands: &[Command],
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let tx = client.transaction().await.map_err(db)?;
    let added = tx.execute(insert, params).await.map_err(db)?;
    if added == 0 {
        return Ok(false);
    }
    write_commands(&tx, commands, now).await?;
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// Writes commands to the outbox (and their lanes) and timers to theirs; returns the
/// outbox ids.
async fn write_commands(
    tx: &Transaction<'_>,
    commands: &[Command],
    now: DateTime<Utc>,
) -> Result<Vec<u64>, StoreError> {
    let mut entries = Vec::new();
    for command in commands {
        let id: i64 = tx
            .query_one("SELECT nextval('command_ids')", &[])
            .await
            .map_err(db)?
            .get(0);
        let unsigned = u64::try_from(id).map_err(db)?;
        match command {
            Command::Timer { worker, due, event } => {
                let timer = TimerEntry {
                    id: unsigned,
                    worker: worker.clone(),
                    due: *due,
                    event: *event,
                };
                tx.execute(
                    "INSERT INTO timers (id, due, timer) VALUES ($1, $2, $3)",
                    &[&id, due, &Json(&timer)],
                )
                .await
                .map_err(db)?;
            }
            command => entries.push(OutboxEntry::new(unsigned, command, now)),
        }
    }
    // Lanes are locked in one order (by name) by every unit, so two units writing to the
    // same two lanes never wait on each other in a circle.
    entries.sort_by_cached_key(|e| (e.command.lane(), e.id));
    for entry in &mut entries {
        super::lanes::supersede(tx, entry).await?;
        super::lanes::add(tx, entry).await?;
    }
    // After `supersede`: a sync that took over an older entry has its id.
    Ok(entries.iter().map(|e| e.id).collect())
}
