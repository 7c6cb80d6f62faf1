//! `shiftline store ...`: the database's schema, and moving a deployment between backends.
//!
//! ```text
//! shiftline store migrate [--config FILE]
//! shiftline store copy --from <sled dir | postgres URL | database> --to <...>
//! ```
//!
//! `database` stands for the URL in `SHIFTLINE_DATABASE_URL`, which keeps the password out
//! of the process list. Copy with every instance stopped: it reads one store whole and
//! writes it into an empty one, ids kept, then reads the copy back and compares.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;

use crate::config::ENV_DATABASE_URL;
use crate::store::{PgStore, SledStore, Store, StoreError};

#[derive(Clone, Debug, Subcommand)]
pub enum StoreCommand {
    /// Bring the PostgreSQL schema up to date (`serve` does it too, at start).
    Migrate {
        #[command(flatten)]
        file: super::ConfigFile,
    },
    /// Copy everything from one store into an empty one: a sled directory, a postgres://
    /// URL, or `database` for SHIFTLINE_DATABASE_URL.
    Copy {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

/// Where a store is, as the command line names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Sled(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(raw: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        if raw == "database" {
            return env(ENV_DATABASE_URL)
                .map(Location::Postgres)
                .ok_or_else(|| format!("`database` means {ENV_DATABASE_URL}, which is not set"));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Location::Postgres(raw.to_string()));
        }
        Ok(Location::Sled(PathBuf::from(raw)))
    }

    /// Opens the store; `create` allows a sled directory that is not there yet.
    pub async fn open(&self, create: bool) -> Result<Arc<dyn Store>, String> {
        match self {
            Location::Sled(dir) => {
                if !create && !dir.is_dir() {
                    return Err(format!("no sled store in {}", dir.display()));
                }
                let store = SledStore::open(dir).map_err(|e| match e {
                    StoreError::Locked => format!(
                        "{} is in use: stop the shiftline that runs on it first",
                        dir.display()
                    ),
                    e => format!("{}: {e}", dir.display()),
                })?;
                Ok(Arc::new(store))
            }
            Location::Postgres(url) => Ok(Arc::new(
                PgStore::open(url)
                    .await
                    .map_err(|e| format!("PostgreSQL: {e}"))?,
            )),
        }
    }
}

/// What a copy moved, for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    pub workers: usize,
    pub outbox: usize,
    pub timers: usize,
    pub dispatch: usize,
    pub voicemails: usize,
    pub callbacks: usize,
    pub handled_events: usize,
}

/// Copies everything in `from` into the empty `to`, and checks the copy reads back the same.
pub async fn copy(from: &dyn Store, to: &dyn Store) -> Result<Copied, String> {
    let snapshot = from
        .export()
        .await
        .map_err(|e| format!("reading the source: {e}"))?;
    to.import(&snapshot)
        .await
        .map_err(|e| format!("writing the copy: {e}"))?;
    let copy = to
        .export()
        .await
        .map_err(|e| format!("reading the copy back: {e}"))?;
    if copy != snapshot {
        return Err("the copy does not read back the same as the source".to_string());
    }
    Ok(Copied {
        workers: snapshot.workers.len(),
        outbox: snapshot.outbox.len(),
        timers: snapshot.timers.len(),
        dispatch: snapshot.dispatch.len(),
        voicemails: snapshot.voicemails.len(),
        callbacks: snapshot.callbacks.len(),
        handled_events: snapshot.seen.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_a_directory_a_url_or_the_configured_database() {
        let env = |k: &str| (k == ENV_DATABASE_URL).then(|| "postgres://u:p@db/x".to_string());
        assert_eq!(
            Location::parse("./data", env),
            Ok(Location::Sled("./data".into()))
        );
        assert_eq!(
            Location::parse("postgresql://h/db", env),
            Ok(Location::Postgres("postgresql://h/db".into()))
        );
        assert_eq!(
            Location::parse("database", env),
            Ok(Location::Postgres("postgres://u:p@db/x".into()))
        );
        assert!(Location::parse("database", |_| None).is_err());
    }
}
