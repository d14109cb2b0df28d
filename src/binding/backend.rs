//! Where a store's statements run: a connection of ours, or the caller's own handle.
//! The store and its org-scoped handles share one `Backend`.

use super::async_call::{AsyncCall, Job};
use super::connection::{closed, Own};
use super::database::Database;
use super::env_data::to_js;
use super::host::{HostEngine, HostHandle};
use control_plane_core::engine::Db;
use control_plane_core::error::{CpError, Result as CoreResult};
use napi::bindgen_prelude::{AsyncTask, ClassInstance, FromNapiValue, JavaScriptClassExt, Object, Unknown};
use napi::{Env, Result, ValueType};
use std::sync::Arc;

/// Where a store's statements run.
pub enum Backend {
    /// A connection of ours: opened by path (`owned`, closed by `close()`), or shared
    /// with a `Database` of this package (its owner closes it).
    Own { own: Arc<Own>, owned: bool },
    /// The caller's own SQLite handle; `None` once the store let go of it.
    Host(Option<HostHandle>),
}

impl Backend {
    /// The backend for the constructor's `sqlite`: a path, a `Database`, or a handle.
    pub fn resolve(env: &Env, sqlite: Unknown) -> CoreResult<Backend> {
        let invalid = || CpError::field("sqlite", "sqlite must be a Database, a file path, ':memory:', or a SQLite database handle.");
        match sqlite.get_type().map_err(|_| invalid())? {
            ValueType::String => {
                let path = String::from_unknown(sqlite).map_err(|_| invalid())?;
                let own = if control_plane_core::engine::sqlite::is_memory_path(&path) {
                    Own::open_memory_store()?
                } else {
                    super::open_path::connection_for_path(env, &path)?
                };
                Ok(Backend::Own { own, owned: true })
            }
            ValueType::Object => {
                if Database::instance_of(env, &sqlite).unwrap_or(false) {
                    let db = ClassInstance::<Database>::from_unknown(sqlite).map_err(|_| invalid())?;
                    db.own.load_schema_if_empty()?;
                    return Ok(Backend::Own { own: db.own.clone(), owned: false });
                }
                let handle = Object::from_unknown(sqlite).map_err(|_| invalid())?;
                let host = HostHandle::new(handle)?;
                // As the documented store does; better-sqlite3 has it on already, bun:sqlite
                // and node:sqlite do not.
                control_plane_core::engine::Engine::script(&HostEngine::new(env, &host), "PRAGMA foreign_keys = ON")?;
                Ok(Backend::Host(Some(host)))
            }
            _ => Err(invalid()),
        }
    }

    /// Runs `f` on the engine, on this thread.
    pub fn run<T>(&self, env: &Env, f: impl FnOnce(&Db) -> CoreResult<T>) -> CoreResult<T> {
        match self {
            Backend::Own { own, .. } => own.with(|engine| f(engine)),
            Backend::Host(Some(host)) => {
                let engine = HostEngine::new(env, host);
                engine.check_open()?;
                f(&engine)
            }
            Backend::Host(None) => Err(closed()),
        }
    }

    /// Lets go of the backend: closes a connection the store opened, releases a handle.
    pub fn close(&mut self, env: &Env) -> CoreResult<()> {
        match self {
            Backend::Own { own, owned: true } => own.close(),
            Backend::Own { .. } => Ok(()),
            Backend::Host(host) => {
                if let Some(host) = host.take() {
                    host.release(env);
                }
                Ok(())
            }
        }
    }
}

impl Backend {
    /// A long method on the thread pool: on a connection of ours, off the JS thread; on a
    /// host handle, run here (the handle can be used nowhere else) and handed over. A
    /// store already closed throws; any other error rejects the promise.
    pub fn task(&self, env: &Env, job: CoreResult<Job>) -> Result<AsyncTask<AsyncCall>> {
        let call = match self {
            Backend::Own { own, .. } if own.is_open() => AsyncCall::on_own(own.clone(), job),
            Backend::Own { .. } | Backend::Host(None) => return Err(to_js(env, closed())),
            Backend::Host(Some(_)) => AsyncCall::done(self.run(env, |db| job.and_then(|job| job(db)))),
        };
        Ok(AsyncTask::new(call))
    }
}
