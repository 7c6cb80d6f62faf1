//! The shared backend: PostgreSQL, for two or more instances on one database.
//!
//! Each unit of work is one transaction. One worker's events are applied one at a time
//! whichever instance they reach: the transaction first takes a transaction-scoped advisory
//! lock on the worker's number (and a dispatch event, then, on its reservation), and only
//! then reads the handled-events table, so a Twilio retry that reaches the other instance
//! waits for the first to commit and is answered from its stored reply. A commit is durable
//! when it returns (PostgreSQL's default `synchronous_commit`), so `durable` has nothing to
//! wait for.
//!
//! The outbox is shared: `lanes` keeps each lane's place in the delivery order and who
//! holds it. A claim takes lanes with `FOR UPDATE SKIP LOCKED`, so two instances never
//! take the same one, and sets a lease; the holder renews its leases while it runs
//! (`keep_claims`), and when it dies they run out and another instance takes the lanes
//! over. Timers are taken out of `timers` in the unit of work that fires them, so each
//! fires once across the cluster.
//!
//! Times come from the caller (the service's clock), never from the database's `now()`,
//! so a test's clock governs leases and timers as it governs everything else.

mod copy;
mod lanes;
pub mod migrate;
mod units;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::de::DeserializeOwned;
use tokio_postgres::NoTls;
use tokio_postgres::types::{Json, ToSql};

use super::{
    Applied, CallbackUnit, Claim, DispatchUnit, OutboxEntry, OutboxStats, ParkedEntry,
    PresenceChange, Snapshot, Store, StoreError, TimerEntry, VoicemailRecord, WorkerUnit,
};
use crate::core::callback::CallbackRecord;
use crate::core::dispatch::DispatchRecord;
use crate::core::domain::PhoneNumber;
use crate::core::effects::{Command, Priority};
use crate::core::intake::record::WorkerRecord;

/// How long a claimed lane stays with its holder without a renewal. A dead instance's
/// lanes wait this long before another takes them over.
pub const LEASE: TimeDelta = TimeDelta::seconds(15);

/// Connections kept per instance.
const POOL_SIZE: usize = 16;

pub(crate) fn db(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Names this instance's claims: random per process, so a restarted instance does not
    /// mistake a dead predecessor's leases for its own.
    instance: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host/db`, libpq's key=value form works too) and
    /// brings the schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url)?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("SHIFTLINE_DATABASE_URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(db)?;
        let instance = format!("{:016x}", rand::random::<u64>());
        Ok(Self { pool, instance })
    }

    /// Applies the migrations the database lacks; returns their versions.
    pub async fn migrate(&self) -> Result<Vec<i32>, StoreError> {
        let mut client = self.client().await?;
        migrate::run(&mut client).await
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool.get().await.map_err(db)
    }

    /// Every row's first column, decoded from JSON.
    async fn all<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, StoreError> {
        let client = self.client().await?;
        let rows = client.query(sql, params).await.map_err(db)?;
        Ok(rows.iter().map(|row| row.get::<_, Json<T>>(0).0).collect())
    }

    async fn one<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<T>, StoreError> {
        Ok(self.all(sql, params).await?.into_iter().next())
    }

    async fn count(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let row = client.query_one(sql, params).await.map_err(db)?;
        Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or_default())
    }
}

#[async_trait]
impl Store for PgStore {
    async fn apply_worker(&self, unit: WorkerUnit) -> Result<Applied, StoreError> {
        let mut client = self.client().await?;
        units::apply_worker(&mut client, unit).await
    }

    async fn apply_dispatch(&self, unit: DispatchUnit) -> Result<Applied, StoreError> {
        let mut client = self.client().await?;
        units::apply_dispatch(&mut client, unit).await
    }

    async fn apply_callback(&self, unit: CallbackUnit) -> Result<Applied, StoreError> {
        let mut client = self.client().await?;
        units::apply_callback(&mut client, unit).await
    }

    async fn add_voicemail(
        &self,
        voicemail: VoicemailRecord,
        commands: Vec<Command>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        units::add_voicemail(&mut client, voicemail, commands, now).await
    }

    async fn enqueue(
        &self,
        event_id: &str,
        commands: Vec<Command>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        units::enqueue(&mut client, event_id, commands, now).await
    }

    async fn durable(&self) -> Result<(), StoreError> {
        // Every unit of work committed before this call is on disk already.
        Ok(())
    }

    async fn worker(&self, phone: &PhoneNumber) -> Result<Option<WorkerRecord>, StoreError> {
        self.one(
            "SELECT record FROM workers WHERE phone = $1",
            &[&phone.as_str()],
        )
        .await
    }

    async fn workers(&self) -> Result<Vec<WorkerRecord>, StoreError> {
        self.all("SELECT record FROM workers ORDER BY phone", &[])
            .await
    }

    async fn dispatch_record(
        &self,
        reservation_sid: &str,
    ) -> Result<Option<DispatchRecord>, StoreError> {
        self.one(
            "SELECT record FROM dispatch WHERE reservation_sid = $1",
            &[&reservation_sid],
        )
        .await
    }

    async fn dispatch_records(&self) -> Result<Vec<DispatchRecord>, StoreError> {
        self.all("SELECT record FROM dispatch ORDER BY reservation_sid", &[])
            .await
    }

    async fn callback(&self, id: &str) -> Result<Option<CallbackRecord>, StoreError> {
        self.one("SELECT record FROM callbacks WHERE id = $1", &[&id])
            .await
    }

    async fn callbacks(&self) -> Result<Vec<CallbackRecord>, StoreError> {
        self.all(
            "SELECT record FROM callbacks ORDER BY requested_at, id",
            &[],
        )
        .await
    }

    async fn voicemails(&self) -> Result<Vec<VoicemailRecord>, StoreError> {
        self.all(
            "SELECT record FROM voicemails ORDER BY at, recording_sid",
            &[],
        )
        .await
    }

    async fn history(&self, phone: &PhoneNumber) -> Result<Vec<PresenceChange>, StoreError> {
        self.all(
            "SELECT change FROM history WHERE phone = $1 ORDER BY id",
            &[&phone.as_str()],
        )
        .await
    }

    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.all("SELECT entry FROM outbox ORDER BY id", &[]).await
    }

    async fn parked(&self) -> Result<Vec<ParkedEntry>, StoreError> {
        self.all("SELECT record FROM parked ORDER BY id", &[]).await
    }

    async fn timers(&self) -> Result<Vec<TimerEntry>, StoreError> {
        self.all("SELECT timer FROM timers ORDER BY due, id", &[])
            .await
    }

    async fn outbox_stats(&self, failing_since: DateTime<Utc>) -> Result<OutboxStats, StoreError> {
        Ok(OutboxStats {
            pending: self.count("SELECT count(*) FROM outbox", &[]).await?,
            timers: self.count("SELECT count(*) FROM timers", &[]).await?,
            parked: self.count("SELECT count(*) FROM parked", &[]).await?,
            failing_since: self
                .count(
                    "SELECT count(*) FROM outbox WHERE failing AND enqueued_at < $1",
                    &[&failing_since],
                )
                .await?,
        })
    }

    async fn claim_upto(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        at_most: Priority,
    ) -> Result<Vec<Claim>, StoreError> {
        let client = self.client().await?;
        lanes::claim(&client, &self.instance, now, limit, at_most).await
    }

    async fn delivered(&self, claim: &Claim) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        lanes::finish(
            &mut client,
            &self.instance,
            claim,
            lanes::Outcome::Delivered,
        )
        .await
    }

    async fn retry(
        &self,
        claim: &Claim,
        not_before: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let outcome = lanes::Outcome::Retry { not_before, error };
        lanes::finish(&mut client, &self.instance, claim, outcome).await
    }

    async fn park(&self, claim: &Claim, error: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let outcome = lanes::Outcome::Parked { error, now };
        lanes::finish(&mut client, &self.instance, claim, outcome).await
    }

    async fn release(&self, claim: &Claim) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        lanes::finish(
            &mut client,
            &self.instance,
            claim,
            lanes::Outcome::Untouched,
        )
        .await
    }

    async fn keep_claims(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                // SKIP LOCKED: a lane a unit of work is writing to is renewed next time
                // (the lease outlasts several renewals), and this never waits on a unit
                // that may be waiting on a lane this holds: no deadlock.
                "UPDATE lanes SET lease_until = $2 WHERE lane IN
                     (SELECT lane FROM lanes WHERE claimed_by = $1 FOR UPDATE SKIP LOCKED)",
                &[&self.instance, &(now + LEASE)],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn due_timers(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<TimerEntry>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.all(
            "SELECT timer FROM timers WHERE due <= $1 ORDER BY due, id LIMIT $2",
            &[&now, &limit],
        )
        .await
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let client = self.client().await?;
        // A lane held by someone comes due again when its lease runs out.
        let row = client
            .query_one(
                "SELECT least(
                    (SELECT min(CASE WHEN lease_until IS NULL THEN due
                                     ELSE greatest(due, lease_until) END) FROM lanes),
                    (SELECT min(due) FROM timers))",
                &[],
            )
            .await
            .map_err(db)?;
        Ok(row.get(0))
    }

    async fn export(&self) -> Result<Snapshot, StoreError> {
        copy::export(self).await
    }

    async fn import(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        copy::import(&mut client, snapshot).await
    }

    async fn prune_seen(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let removed = client
            .execute("DELETE FROM seen WHERE at < $1", &[&before])
            .await
            .map_err(db)?;
        Ok(usize::try_from(removed).unwrap_or_default())
    }
}
