//! Group commit: one task makes every waiting write durable with a single blocking
//! `flush()`, so a burst of webhooks shares one flush instead of queueing a flush each.
//!
//! sled's asynchronous flush deadlocks under concurrent load (upstream bug #1308, DESIGN 6), so
//! the blocking `flush()` runs on tokio's blocking pool. Each request carries its own handle
//! to the database and the task drops the handles before it answers, so the task keeps
//! nothing open between batches and the database closes when the last `Store` is dropped.

use tokio::sync::{mpsc, oneshot};

struct Waiter {
    db: sled::Db,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone, Debug)]
pub struct GroupCommit {
    tx: mpsc::UnboundedSender<Waiter>,
}

impl GroupCommit {
    /// Starts the flushing task on the current tokio runtime.
    pub fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx));
        Self { tx }
    }

    /// Returns once everything written to `db` before the call is on disk.
    pub async fn durable(&self, db: &sled::Db) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Waiter {
                db: db.clone(),
                done,
            })
            .map_err(|_| "the flush task has stopped".to_string())?;
        wait.await
            .map_err(|_| "the flush task has stopped".to_string())?
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Waiter>) {
    while let Some(first) = rx.recv().await {
        // Everyone who queued while the previous flush ran shares this one: their writes
        // committed before they queued, so one flush started now covers them all.
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let db = batch[0].db.clone();
        let result = match tokio::task::spawn_blocking(move || db.flush()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("flush failed: {e}")),
            Err(e) => Err(format!("flush task failed: {e}")),
        };
        for Waiter { db, done } in batch {
            drop(db);
            let _ = done.send(result.clone());
        }
    }
}
