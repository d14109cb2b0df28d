//! The Node.js binding. `NativeConnection` holds a SQLite connection of ours that the
//! JavaScript `Database` and `ControlPlaneStore` share; `HostConnection` runs the store on
//! the caller's own SQLite handle (`host`). It converts strings in and out and
//! turns every core error into a JS error whose message is the error's JSON, which the
//! JavaScript wrapper rethrows as a `ControlPlaneError`. The long exports can run on the
//! libuv thread pool (`callAsync`). Nothing else lives here.

use crate::core::{error::CpError, schema, store};
use crate::engine::sqlite::{self, raw, Checkpointer, SqliteEngine};
mod host;

use napi::bindgen_prelude::{Object, ObjectFinalize};
use napi::{Env, Error, Result};
use napi_derive::napi;
use std::sync::{Arc, Mutex};

fn to_js(err: CpError) -> Error {
    Error::from_reason(err.to_json())
}

#[napi]
pub struct NativeConnection {
    conn: Arc<Mutex<Option<SqliteEngine>>>,
    /// The file, or `None` in memory: async work on a file opens a connection of its own,
    /// so it never holds the lock the JS thread's calls need.
    path: Option<String>,
    /// Checkpoints a file's WAL off the JS thread; stopped before the connection closes.
    checkpointer: Mutex<Option<Checkpointer>>,
}

/// A store method run on the libuv thread pool; resolves to its JSON result.
pub struct AsyncCall {
    conn: Arc<Mutex<Option<SqliteEngine>>>,
    path: Option<String>,
    method: String,
    input_json: String,
}

impl napi::Task for AsyncCall {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<String> {
        match &self.path {
            Some(path) => {
                let own = SqliteEngine::open(path).map_err(to_js)?;
                store::call(&own, &self.method, &self.input_json).map_err(to_js)
            }
            None => {
                let guard = self.conn.lock().map_err(|_| to_js(CpError::new("INTERNAL", "connection lock poisoned", None)))?;
                match guard.as_ref() {
                    Some(conn) => store::call(conn, &self.method, &self.input_json).map_err(to_js),
                    None => Err(to_js(CpError::new("CLOSED", "The database connection is closed.", None))),
                }
            }
        }
    }

    fn resolve(&mut self, _env: napi::Env, output: String) -> Result<String> {
        Ok(output)
    }
}

impl NativeConnection {
    fn with<T>(&self, f: impl FnOnce(&SqliteEngine) -> crate::core::error::Result<T>) -> Result<T> {
        let guard = self.conn.lock().map_err(|_| to_js(CpError::new("INTERNAL", "connection lock poisoned", None)))?;
        match guard.as_ref() {
            Some(conn) => f(conn).map_err(to_js),
            None => Err(to_js(CpError::new("CLOSED", "The database connection is closed.", None))),
        }
    }
}

#[napi]
impl NativeConnection {
    /// Opens (creating if needed) a SQLite file, or an in-memory database for `:memory:`.
    #[napi(constructor)]
    pub fn new(path: String) -> Result<Self> {
        let conn = SqliteEngine::open(&path).map_err(to_js)?;
        let path = (!sqlite::is_memory_path(&path)).then_some(path);
        let checkpointer = match &path {
            Some(file) => Some(Checkpointer::start(file, conn.conn()).map_err(to_js)?),
            None => None,
        };
        Ok(NativeConnection { conn: Arc::new(Mutex::new(Some(conn))), path, checkpointer: Mutex::new(checkpointer) })
    }

    /// Runs one of the long store methods (`exportOrgAudit`, `exportOrgAuditToFile`) off
    /// the JS thread; the promise resolves to its JSON result.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn call_async(&self, method: String, input_json: String) -> Result<napi::bindgen_prelude::AsyncTask<AsyncCall>> {
        if !["exportOrgAudit", "exportOrgAuditToFile"].contains(&method.as_str()) {
            return Err(to_js(CpError::invalid(format!("{method} has no async variant."), None)));
        }
        if !self.is_open() {
            return Err(to_js(CpError::new("CLOSED", "The database connection is closed.", None)));
        }
        Ok(napi::bindgen_prelude::AsyncTask::new(AsyncCall {
            conn: self.conn.clone(),
            path: self.path.clone(),
            method,
            input_json,
        }))
    }

    /// Calls a store method with its input as JSON; returns the result as JSON.
    #[napi]
    pub fn call(&self, method: String, input_json: String) -> Result<String> {
        self.with(|c| store::call(c, &method, &input_json))
    }

    #[napi]
    pub fn ensure_tables(&self) -> Result<()> {
        self.with(|c| schema::ensure(c))
    }

    #[napi]
    pub fn exec(&self, sql: String) -> Result<()> {
        self.with(|c| Ok(c.conn().execute_batch(&sql)?))
    }

    #[napi]
    pub fn run(&self, sql: String, params_json: String) -> Result<String> {
        self.with(|c| raw::run(c.conn(), &sql, &params_json))
    }

    /// Rows as a JSON array; at most `limit` of them when given.
    #[napi]
    pub fn query(&self, sql: String, params_json: String, limit: Option<u32>) -> Result<String> {
        self.with(|c| raw::rows(c.conn(), &sql, &params_json, limit.map_or(usize::MAX, |l| l as usize)))
    }

    #[napi(getter)]
    pub fn is_open(&self) -> bool {
        self.conn.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    /// Closes the connection; later calls fail with `CLOSED`. Closing twice is harmless.
    #[napi]
    pub fn close(&self) -> Result<()> {
        // The checkpoint thread first, so the last connection to close is ours, which
        // checkpoints the WAL and removes it.
        drop(self.checkpointer.lock().ok().and_then(|mut g| g.take()));
        let taken = self.conn.lock().ok().and_then(|mut g| g.take());
        match taken {
            Some(conn) => conn.close().map_err(to_js),
            None => Ok(()),
        }
    }
}

/// The store on the caller's own SQLite handle (bun:sqlite, better-sqlite3, node:sqlite,
/// or any object with `exec` and `query`/`prepare`). Every call runs on the JS thread, on
/// that handle's connection; the owner keeps the handle and closes it.
#[napi(custom_finalize)]
pub struct HostConnection {
    host: Option<host::HostHandle>,
}

impl HostConnection {
    fn with<T>(&self, env: &Env, f: impl FnOnce(&host::HostEngine) -> crate::core::error::Result<T>) -> Result<T> {
        match &self.host {
            Some(host) => f(&host::HostEngine { env, host }).map_err(to_js),
            None => Err(to_js(CpError::new("CLOSED", "The database connection is closed.", None))),
        }
    }
}

#[napi]
impl HostConnection {
    /// Keeps the handle and turns its foreign keys on, as the documented store does.
    #[napi(constructor)]
    pub fn new(env: Env, handle: Object) -> Result<Self> {
        let host = host::HostHandle::new(&env, handle).map_err(to_js)?;
        let connection = HostConnection { host: Some(host) };
        connection.with(&env, |engine| crate::engine::Engine::script(engine, "PRAGMA foreign_keys = ON"))?;
        Ok(connection)
    }

    #[napi]
    pub fn call(&self, env: Env, method: String, input_json: String) -> Result<String> {
        self.with(&env, |engine| store::call(engine, &method, &input_json))
    }

    /// The long methods too run on the JS thread: the handle can be used nowhere else.
    #[napi]
    pub fn call_async(&self, env: Env, method: String, input_json: String) -> Result<String> {
        self.call(env, method, input_json)
    }

    #[napi]
    pub fn ensure_tables(&self, env: Env) -> Result<()> {
        self.with(&env, |engine| schema::ensure(engine))
    }

    #[napi(getter)]
    pub fn is_open(&self) -> bool {
        self.host.is_some()
    }

    /// Lets go of the handle and its statements; the owner's handle stays open.
    #[napi]
    pub fn close(&mut self, env: Env) {
        if let Some(host) = self.host.take() {
            host.release(&env);
        }
    }
}

impl ObjectFinalize for HostConnection {
    fn finalize(mut self, env: Env) -> Result<()> {
        self.close(env);
        Ok(())
    }
}

/// Whether our SQLite takes open-file-description locks here (Linux 3.15 and later), so
/// that a file opened by path is safe beside another SQLite copy of this process.
#[napi]
pub fn ofd_locks_available() -> bool {
    sqlite::locks::install();
    sqlite::locks::ofd_locks_available()
}
