//! A move from a SQLite file to PostgreSQL (`control-plane migrate`, bin/control-plane.js):
//! the core's `Transfer`, opened, stepped and verified on libuv's thread pool, so the
//! command can draw its progress line between steps. Internal: the CLI is its face.

use super::env_data::to_js;
use control_plane_core::engine::postgres::{PgOptions, PostgresPool};
use control_plane_core::engine::sqlite::SqliteEngine;
use control_plane_core::error::{CpError, Result as CoreResult};
use control_plane_core::transfer::{Transfer, LEASE};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Result, Task};
use napi_derive::napi;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The move, shared by its tasks; `None` once closed.
type Shared = Arc<Mutex<Option<Transfer>>>;

fn from_file(from: &str) -> CoreResult<String> {
    let refused = |why: &str| CpError::field("from", format!("from must be sqlite:<path> of an existing file; {why}"));
    let path = from.strip_prefix("sqlite:").ok_or_else(|| refused(&format!("got {from}.")))?;
    let path = path.strip_prefix("//").unwrap_or(path);
    if path.is_empty() || control_plane_core::engine::sqlite::is_memory_path(path) {
        return Err(refused("an in-memory database has nothing to move."));
    }
    if !std::path::Path::new(path).is_file() {
        return Err(refused(&format!("there is no file at {path}.")));
    }
    Ok(path.to_string())
}

fn to_postgres(to: &str) -> CoreResult<&str> {
    if to.starts_with("postgres://") || to.starts_with("postgresql://") {
        Ok(to)
    } else {
        Err(CpError::field("to", format!("to must be a postgres:// or postgresql:// URL; got {to}.")))
    }
}

/// Opens the move: the file, one PostgreSQL connection, the target's record of the move.
pub struct Start {
    from: String,
    to: String,
    /// How long the move's hold on the target lasts after each step; `LEASE` when `None`.
    lease_ms: Option<u32>,
}

impl Task for Start {
    type Output = CoreResult<Transfer>;
    type JsValue = NativeTransfer;

    fn compute(&mut self) -> Result<CoreResult<Transfer>> {
        Ok((|| {
            let path = from_file(&self.from)?;
            let url = to_postgres(&self.to)?;
            // One connection, with no statement timeout: a step is as long as its rows.
            let options = PgOptions { pool_size: 1, statement_timeout: None, ..PgOptions::default() };
            let target = PostgresPool::connect(url, options)?.get()?;
            let lease = self.lease_ms.map_or(LEASE, |ms| Duration::from_millis(ms.into()));
            Transfer::start_with_lease(SqliteEngine::open(&path)?, target, lease)
        })())
    }

    fn resolve(&mut self, env: Env, output: CoreResult<Transfer>) -> Result<NativeTransfer> {
        match output {
            Ok(transfer) => Ok(NativeTransfer { transfer: Arc::new(Mutex::new(Some(transfer))) }),
            Err(err) => Err(to_js(&env, err)),
        }
    }
}

/// `startTransfer(from, to, leaseMs?)`: what `control-plane migrate` awaits.
#[napi(skip_typescript)]
pub fn start_transfer(from: String, to: String, lease_ms: Option<u32>) -> AsyncTask<Start> {
    AsyncTask::new(Start { from, to, lease_ms })
}

/// One piece of work on the move, off the JS thread; its result as JSON text.
pub struct Work {
    transfer: Shared,
    job: fn(&mut Transfer, usize) -> CoreResult<String>,
    rows: usize,
}

fn json<T: Serialize>(value: &T) -> CoreResult<String> {
    serde_json::to_string(value).map_err(|e| CpError::new("INTERNAL", e.to_string(), None))
}

impl Task for Work {
    type Output = CoreResult<String>;
    type JsValue = String;

    fn compute(&mut self) -> Result<CoreResult<String>> {
        let mut guard = self.transfer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(match guard.as_mut() {
            Some(transfer) => (self.job)(transfer, self.rows),
            None => Err(CpError::new("CLOSED", "The move is closed.", None)),
        })
    }

    fn resolve(&mut self, env: Env, output: CoreResult<String>) -> Result<String> {
        output.map_err(|err| to_js(&env, err))
    }
}

/// The native side of a move (internal): each method resolves to JSON text.
#[napi]
pub struct NativeTransfer {
    transfer: Shared,
}

#[napi]
impl NativeTransfer {
    fn work(&self, job: fn(&mut Transfer, usize) -> CoreResult<String>, rows: usize) -> AsyncTask<Work> {
        AsyncTask::new(Work { transfer: self.transfer.clone(), job, rows })
    }

    /// Where the move stands.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn progress(&self) -> AsyncTask<Work> {
        self.work(|t, _| json(&t.progress()), 0)
    }

    /// Copies up to `rows` rows; resolves to the progress.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn step(&self, rows: u32) -> AsyncTask<Work> {
        self.work(|t, rows| t.step(rows).and_then(|p| json(&p)), rows as usize)
    }

    /// Compares the two sides and checks the target; resolves to the report.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn verify(&self) -> AsyncTask<Work> {
        self.work(|t, _| t.verify().and_then(|v| json(&v)), 0)
    }

    /// Lets go of the file's snapshot and the target's connection.
    #[napi]
    pub fn close(&self) {
        let taken = self.transfer.lock().ok().and_then(|mut t| t.take());
        drop(taken);
    }
}
