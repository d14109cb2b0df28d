//! `ControlPlaneStore`: the class users construct, one napi-rs method per store method.
//! Each reads its JS input in Rust (`input`), runs the core on the store's engine, and
//! returns the result as JS values; every error is a `ControlPlaneError` (`env_data`).

use super::connection::{closed, Own};
use super::database::Database;
use super::env_data::{parse_json, to_js};
use super::host::{HostEngine, HostHandle};
use super::input::{self, Read};
use super::call::{Given, Inputs};
use super::scope::OrgScope;
use std::cell::{Ref, RefCell};
use std::rc::Rc;
use control_plane_core::error::{CpError, Result as CoreResult};
use control_plane_core::schema;
use control_plane_core::engine::sqlite::SqliteEngine;
use control_plane_core::engine::Db;
use napi::bindgen_prelude::{AsyncTask, ClassInstance, FromNapiValue, JavaScriptClassExt, Object, ObjectFinalize, Unknown};
use napi::ScopedTask;
use napi::{Env, Result, ValueType};
use napi_derive::napi;
use control_plane_core::validate::Fields;
use serde_json::Value;
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
                    super::connection_for_path(env, &path)?
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

#[napi(custom_finalize)]
pub struct ControlPlaneStore {
    /// Shared with the store's org-scoped handles (`forOrg`).
    backend: Rc<RefCell<Backend>>,
}

impl ObjectFinalize for ControlPlaneStore {
    fn finalize(self, env: Env) -> Result<()> {
        // A connection the store opened is closed with it; a handle is let go.
        let _ = self.backend.borrow_mut().close(&env);
        Ok(())
    }
}

/// The work of a long method: one typed operation on its request (read on the JS thread),
/// its result as JSON text.
/// May run twice on PostgreSQL: again on a new connection when the first had died while
/// idle (`PostgresPool::run`).
pub type Job = Box<dyn Fn(&Db) -> CoreResult<String> + Send>;

/// A long method run on the libuv thread pool: the export of an org, to memory or a file,
/// and the audit chain's check; the async store's calls on SQLite. (The async store's calls
/// on PostgreSQL run on the pool's own threads: `async_store::on_pool`.)
pub struct AsyncCall {
    work: AsyncWork,
}

enum AsyncWork {
    /// On a connection of ours: a file gets a connection of its own for the work. The job
    /// is the request read on the JS thread, or the error reading it, which the work
    /// reports after the connection's own (a store closed since, a file that no longer
    /// opens), as a call on the JS thread does.
    Own { own: Arc<Own>, job: Option<CoreResult<Job>> },
    /// On a host handle the work already ran on the JS thread (the handle cannot be used
    /// elsewhere); the task only hands over its result.
    Done(Option<CoreResult<String>>),
}

impl AsyncCall {
    /// The work on a connection of ours, off the JS thread (a closed one fails the work).
    pub fn on_own(own: Arc<Own>, job: CoreResult<Job>) -> AsyncCall {
        AsyncCall { work: AsyncWork::Own { own, job: Some(job) } }
    }
}

impl<'task> ScopedTask<'task> for AsyncCall {
    type Output = CoreResult<String>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> Result<CoreResult<String>> {
        Ok(match &mut self.work {
            AsyncWork::Done(result) => result.take().unwrap_or_else(|| Err(closed())),
            AsyncWork::Own { own, job } => {
                let job = job.take().unwrap_or_else(|| Err(closed()));
                match &own.path {
                    Some(path) => SqliteEngine::open(path).and_then(|engine| job.and_then(|job| job(&engine))),
                    None => own.with(|engine| job.and_then(|job| job(engine))),
                }
            }
        })
    }

    fn resolve(&mut self, env: &'task Env, output: CoreResult<String>) -> Result<Unknown<'task>> {
        settle(env, output)
    }
}

/// What a long method's promise settles with, on the JS thread: its result parsed, or its
/// error thrown (the promise rejects with it).
pub fn settle(env: &Env, output: CoreResult<String>) -> Result<Unknown<'_>> {
    match output {
        Ok(text) => parse_json(env, &text),
        Err(err) => Err(to_js(env, err)),
    }
}

impl Backend {
    /// A long method on the thread pool: on a connection of ours, off the JS thread; on a
    /// host handle, run here (the handle can be used nowhere else) and handed over. A
    /// store already closed throws; any other error rejects the promise.
    pub fn task(&self, env: &Env, job: CoreResult<Job>) -> Result<AsyncTask<AsyncCall>> {
        let work = match self {
            Backend::Own { own, .. } if own.is_open() => AsyncWork::Own { own: own.clone(), job: Some(job) },
            Backend::Own { .. } | Backend::Host(None) => return Err(to_js(env, closed())),
            Backend::Host(Some(_)) => AsyncWork::Done(Some(self.run(env, |db| job.and_then(|job| job(db))))),
        };
        Ok(AsyncTask::new(AsyncCall { work }))
    }
}

/// The store reads an input as given.
impl Inputs for ControlPlaneStore {
    fn backend(&self) -> Ref<'_, Backend> {
        self.backend.borrow()
    }

    fn input(&self, env: &Env, input: Option<Unknown>, given: Given) -> Result<Read> {
        match input {
            Some(input) if !matches!(input.get_type(), Ok(ValueType::Undefined | ValueType::Null)) => {
                input::read_input(env, input).map_err(|e| to_js(env, e))
            }
            _ if given == Given::Required => Ok(Read::Json(Value::Null)),
            _ => Ok(Read::Fields(Fields::default())),
        }
    }

    fn prepare(&self, _env: &Env, read: Read) -> Result<Read> {
        Ok(read)
    }
}

#[napi]
impl ControlPlaneStore {
    /// `new ControlPlaneStore(sqlite)`: a file path or `":memory:"` (a connection of the
    /// store's own), a `Database` of this package (shared), or another binding's handle
    /// (every statement runs on it). Creates or upgrades the schema.
    #[napi(constructor, ts_args_type = "sqlite: ControlPlaneSqlite")]
    pub fn new(env: Env, sqlite: Unknown) -> Result<Self> {
        let mut backend = Backend::resolve(&env, sqlite).map_err(|e| to_js(&env, e))?;
        if let Err(err) = backend.run(&env, |db| schema::ensure(db)) {
            let _ = backend.close(&env);
            return Err(to_js(&env, err));
        }
        Ok(ControlPlaneStore { backend: Rc::new(RefCell::new(backend)) })
    }

    /// Closes the connection if the store opened it (a path); on a `Database` or another
    /// binding's handle, lets go of it and leaves it open for its owner.
    #[napi]
    pub fn close(&self, env: Env) -> Result<()> {
        self.backend.borrow_mut().close(&env).map_err(|e| to_js(&env, e))
    }

    /// A handle scoped to one org: the org-level methods, each taking its input without
    /// `orgId` (one naming another org is `TENANT_MISMATCH`), with `context.actorId` as the
    /// default actor of every audited write.
    #[napi(ts_args_type = "orgId: string, context?: ControlPlaneRequestContext", ts_return_type = "OrgScope")]
    pub fn for_org(&self, env: Env, org_id: Unknown, context: Option<Unknown>) -> Result<OrgScope> {
        OrgScope::new(&env, self.backend.clone(), org_id, context)
    }
}

/// `ensureControlPlaneTables(sqlite)`: creates or upgrades the schema; idempotent.
#[napi(ts_args_type = "sqlite: ControlPlaneSqlite")]
pub fn ensure_control_plane_tables(env: Env, sqlite: Unknown) -> Result<()> {
    let mut backend = Backend::resolve(&env, sqlite).map_err(|e| to_js(&env, e))?;
    let result = backend.run(&env, |db| schema::ensure(db));
    let closed = backend.close(&env);
    result.and(closed).map_err(|e| to_js(&env, e))
}
