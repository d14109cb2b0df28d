//! The async store: `ControlPlaneStore.connect(url, options?)` (index.js) resolves to a
//! store whose every method returns a Promise, on PostgreSQL (`postgres://`,
//! `postgresql://`) or SQLite (`sqlite:path`, `sqlite::memory:`), so gateway code is
//! written once. The sync `ControlPlaneStore` stays as it is.
//!
//! Natively it is one class, `NativeAsyncStore`, with one method, `call(method, input)`:
//! the input is read on the JS thread by the sync store's reader (`input`), the method's
//! core operation looked up in `ops!`'s table (the sync methods' own operations, with
//! their `Given`), and the work runs off the JS thread: on PostgreSQL on one of the pool's
//! own threads (`on_pool`: as many as `poolSize`, not libuv's 4), on a connection it lends;
//! on SQLite on libuv's thread pool through the sync store's `AsyncCall`, on our
//! connection. Either way the promise settles as the sync store's `settle` has it. index.js
//! gives it the sync store's method names (`asyncMethods()` lists them with the shape of
//! their arguments), and `forOrg` a scoped copy (`scoped`) that puts its org in as
//! `OrgScope` does.
//!
//! Why a class of its own and not a factory of `ControlPlaneStore`: every method of the
//! sync class returns its result; the async one returns a Promise of it. One class with
//! both would have each method's type depend on how the store was made.

use super::call::Given;
use super::declare::{Args, Face};
use super::methods;
use super::connection::{closed, Own};
use super::env_data::{parse_json, to_js};
use super::input;
use super::scope::Scoping;
use super::async_call::{settle, AsyncCall, Job};
use control_plane_core::engine::postgres::{PgOptions, PostgresPool};
use control_plane_core::error::{CpError, Result as CoreResult};
use control_plane_core::schema;
use napi::bindgen_prelude::{AsyncTask, Either, Object, Unknown};
use napi::{sys, Env, JsValue, Result, Task, ValueType};
use napi_derive::napi;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where an async store's calls run.
#[derive(Clone)]
pub enum Engine {
    Sqlite(Arc<Own>),
    Postgres(PostgresPool),
}

/// `connect`'s options (PostgreSQL; SQLite takes none). TLS is asked for in the URL:
/// `sslmode=require` or `verify-full` (the server's certificate checked against
/// `sslrootcert=<file>`, else the system's roots).
#[napi(object)]
#[derive(Default)]
pub struct ControlPlaneConnectOptions {
    /// How many connections the pool opens at most (8 when missing).
    pub pool_size: Option<u32>,
    /// Each statement's `statement_timeout`, in ms (30 000 when missing; 0: none).
    pub statement_timeout_ms: Option<f64>,
    /// How long a writer waits for the write lock before `BUSY`, in ms (5 000).
    pub lock_timeout_ms: Option<f64>,
    /// How long opening a connection may take, in ms (10 000).
    pub connect_timeout_ms: Option<f64>,
    /// How long a call waits for a connection when all are lent out, before `BUSY`, in ms
    /// (10 000).
    pub acquire_timeout_ms: Option<f64>,
}

fn millis(value: Option<f64>, field: &str, default: Duration) -> CoreResult<Duration> {
    match value {
        None => Ok(default),
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Duration::from_millis(ms as u64)),
        Some(_) => Err(CpError::field(field, format!("{field} must be a non-negative number of milliseconds."))),
    }
}

fn pg_options(options: &ControlPlaneConnectOptions) -> CoreResult<PgOptions> {
    let defaults = PgOptions::default();
    let pool_size = match options.pool_size {
        None => defaults.pool_size,
        Some(0) => return Err(CpError::field("poolSize", "poolSize must be at least 1.")),
        Some(n) => n as usize,
    };
    let statement_timeout = match options.statement_timeout_ms {
        Some(ms) if ms == 0.0 => None,
        other => Some(millis(other, "statementTimeoutMs", defaults.statement_timeout.unwrap_or_default())?),
    };
    Ok(PgOptions {
        pool_size,
        statement_timeout,
        lock_timeout: millis(options.lock_timeout_ms, "lockTimeoutMs", defaults.lock_timeout)?,
        connect_timeout: millis(options.connect_timeout_ms, "connectTimeoutMs", defaults.connect_timeout)?,
        acquire_timeout: millis(options.acquire_timeout_ms, "acquireTimeoutMs", defaults.acquire_timeout)?,
        // A pooler in transaction mode is said in the URL (`pgbouncer=true`).
        pooler: false,
    })
}

/// What a URL names.
enum Target {
    Postgres(String),
    SqliteMemory,
    SqliteFile(String),
}

fn target(url: &str) -> CoreResult<Target> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url.to_string()));
    }
    match url.strip_prefix("sqlite:") {
        Some(":memory:") => Ok(Target::SqliteMemory),
        Some(path) if !path.is_empty() => Ok(Target::SqliteFile(path.strip_prefix("//").unwrap_or(path).to_string())),
        _ => Err(CpError::field(
            "url",
            "url must be a postgres:// or postgresql:// URL, sqlite:<path>, or sqlite::memory:.",
        )),
    }
}

/// Opens the store off the JS thread: the pool (one connection, which creates or checks
/// the schema) or our SQLite connection.
pub struct Connect {
    url: String,
    options: CoreResult<PgOptions>,
}

impl Task for Connect {
    type Output = CoreResult<Engine>;
    type JsValue = NativeAsyncStore;

    fn compute(&mut self) -> Result<CoreResult<Engine>> {
        let options = std::mem::replace(&mut self.options, Ok(PgOptions::default()));
        Ok(target(&self.url).and_then(|target| match target {
            Target::Postgres(url) => {
                let pool = PostgresPool::connect(&url, options?)?;
                schema::ensure(&pool.get()?)?;
                Ok(Engine::Postgres(pool))
            }
            Target::SqliteMemory => Ok(Engine::Sqlite(Own::open_memory_store()?)),
            Target::SqliteFile(path) => {
                control_plane_core::engine::sqlite::locks::install();
                let own = Own::open(&path)?;
                if let Err(err) = own.with(|engine| schema::ensure(engine)) {
                    let _ = own.close();
                    return Err(err);
                }
                Ok(Engine::Sqlite(own))
            }
        }))
    }

    fn resolve(&mut self, env: Env, output: CoreResult<Engine>) -> Result<NativeAsyncStore> {
        match output {
            Ok(engine) => Ok(NativeAsyncStore { engine: Arc::new(Mutex::new(Some(engine))), scoping: None }),
            Err(err) => Err(to_js(&env, err)),
        }
    }
}

/// `connectStore(url, options?)`: what `ControlPlaneStore.connect` awaits.
/// Internal (index.js's `AsyncControlPlaneStore` is the public face, typed in index.d.ts).
#[napi(skip_typescript)]
pub fn connect_store(url: String, options: Option<ControlPlaneConnectOptions>) -> AsyncTask<Connect> {
    let options = pg_options(&options.unwrap_or_default());
    AsyncTask::new(Connect { url, options })
}

/// `asyncMethods()`: every method of the async store, `[name, args, scoped]`, for index.js.
#[napi(skip_typescript)]
pub fn async_methods() -> Vec<(String, String, bool)> {
    methods::declared()
        .filter(|op| op.on(Face::Async))
        .map(|op| (op.name.to_string(), op.args.name().to_string(), op.on(Face::Scope)))
        .collect()
}

/// What settles a call's promise on the JS thread (a `JsDeferred`'s resolver).
type Settle = Box<dyn FnOnce(Env) -> Result<sys::napi_value> + Send>;

/// A call on PostgreSQL: its promise, settled once the job ran on one of the pool's threads
/// (`PostgresPool::spawn`), not on libuv's thread pool, whose 4 threads would bound the calls
/// in flight below `poolSize` and be held by calls waiting on a lock. A bad input rejects
/// it without taking a connection, as on the JS thread.
fn on_pool<'e>(env: &'e Env, pool: &PostgresPool, job: CoreResult<Job>) -> Result<Object<'e>> {
    let (deferred, promise) = env.create_deferred::<sys::napi_value, Settle>()?;
    let settled = |output: CoreResult<String>| -> Settle { Box::new(move |env: Env| settle(&env, output).map(|value| value.raw())) };
    match job {
        Ok(job) => pool.spawn(move |engine| job(engine), move |output| deferred.resolve(settled(output))),
        Err(err) => deferred.resolve(settled(Err(err))),
    }
    Ok(promise)
}

/// The native side of the async store (index.js wraps it; internal).
#[napi]
pub struct NativeAsyncStore {
    /// `None` once closed; shared with its scoped copies.
    engine: Arc<Mutex<Option<Engine>>>,
    /// `forOrg`'s: the org and context put into every input.
    scoping: Option<Scoping>,
}

impl NativeAsyncStore {
    fn engine(&self) -> Option<Engine> {
        self.engine.lock().ok().and_then(|engine| engine.clone())
    }

    /// The input object of a call, read as the sync method reads its arguments.
    fn input(&self, env: &Env, args: Args, given: Given, first: Option<Unknown>, second: Option<Unknown>) -> Result<Value> {
        let given_value = |v: &Option<Unknown>| v.as_ref().is_some_and(|v| !matches!(v.get_type(), Ok(ValueType::Undefined | ValueType::Null)));
        let read = |v: Unknown| input::read(env, v).map_err(|e| to_js(env, e));
        let field = |v: Option<Unknown>, name: &str| -> Result<Value> {
            let value = match v {
                Some(v) => input::read_field(env, v, name).map_err(|e| to_js(env, e))?,
                None => Value::Null,
            };
            Ok(json!({ name: value }))
        };
        let mut value = match args {
            Args::None => json!({}),
            Args::OrgId if self.scoping.is_some() => json!({}),
            Args::OrgId => field(first, "orgId")?,
            Args::Slug => field(first, "slug")?,
            Args::Batch => {
                let Some(events) = first.filter(|e| e.is_array().unwrap_or(false)) else {
                    return Err(to_js(env, CpError::field("events", "events must be an array.")));
                };
                let events = input::read_field(env, events, "events").map_err(|e| to_js(env, e))?;
                let returning = match second {
                    Some(options) if options.get_type().ok() == Some(ValueType::Object) => match read(options)?.get("returning") {
                        Some(Value::Null) | None => json!("events"),
                        Some(value) => value.clone(),
                    },
                    _ => json!("events"),
                };
                json!({ "events": events, "returning": returning })
            }
            Args::Options => {
                let mut value = if given_value(&first) { read(first.expect("given"))? } else { Value::Null };
                let options = crate::binding::call::options(env, second)?;
                if let Value::Object(map) = &mut value {
                    map.extend(options.into_iter().map(|(name, v)| (name.to_string(), v)));
                }
                value
            }
            Args::Input | Args::Void if given_value(&first) => read(first.expect("given"))?,
            Args::Input | Args::Void if given == Given::Required && self.scoping.is_none() => Value::Null,
            Args::Input | Args::Void => json!({}),
        };
        if let Some(scoping) = &self.scoping {
            if !value.is_object() {
                return Err(to_js(env, CpError::field("input", "input must be an object.")));
            }
            if let (Args::Batch, Some(Value::Array(events))) = (args, value.get_mut("events")) {
                for event in events.iter_mut() {
                    scoping.scope(event).map_err(|e| to_js(env, e))?;
                }
            } else {
                scoping.scope(&mut value).map_err(|e| to_js(env, e))?;
            }
        }
        Ok(value)
    }
}

#[napi]
impl NativeAsyncStore {
    /// Runs one method off the JS thread: `first` and `second` are its arguments.
    #[napi(ts_args_type = "method: string, first?: {} | null, second?: {} | null", ts_return_type = "Promise<{} | null>")]
    pub fn call<'e>(
        &self,
        env: &'e Env,
        method: String,
        first: Option<Unknown>,
        second: Option<Unknown>,
    ) -> Result<Either<AsyncTask<AsyncCall>, Object<'e>>> {
        let declared = methods::declared().find(|op| op.name == method && op.on(Face::Async));
        let found = declared.filter(|op| op.on(Face::Scope) || self.scoping.is_none()).zip(methods::prepare(&method));
        let Some((op, prepare)) = found else {
            return Err(to_js(env, CpError::new("INVALID_INPUT", format!("No method {method} on this store."), None)));
        };
        let (args, given) = (op.args, op.given);
        let engine = self.engine().ok_or_else(|| to_js(env, closed()))?;
        let input = self.input(env, args, given, first, second)?;
        let job = prepare(&input);
        match engine {
            Engine::Postgres(pool) => on_pool(env, &pool, job).map(Either::B),
            Engine::Sqlite(own) if own.is_open() => Ok(Either::A(AsyncTask::new(AsyncCall::on_own(own, job)))),
            Engine::Sqlite(_) => Err(to_js(env, closed())),
        }
    }

    /// A copy scoped to one org (`forOrg`), sharing the connections.
    #[napi(ts_args_type = "orgId: string, context?: ControlPlaneRequestContext")]
    pub fn scoped(&self, env: &Env, org_id: Unknown, context: Option<Unknown>) -> Result<NativeAsyncStore> {
        Ok(NativeAsyncStore { engine: self.engine.clone(), scoping: Some(Scoping::read(env, org_id, context)?) })
    }

    /// The org of a scoped copy.
    #[napi(getter)]
    pub fn org_id(&self) -> Option<String> {
        self.scoping.as_ref().map(|s| s.org_id.clone())
    }

    /// The request context of a scoped copy.
    #[napi(getter, ts_return_type = "ControlPlaneRequestContext")]
    pub fn context<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let context = self.scoping.as_ref().map_or(json!({}), Scoping::context_json);
        parse_json(env, &context.to_string())
    }

    /// Which engine: `"postgres"` or `"sqlite"` (`null` once closed).
    #[napi(getter)]
    pub fn dialect(&self) -> Option<String> {
        self.engine().map(|e| match e {
            Engine::Postgres(_) => "postgres".to_string(),
            Engine::Sqlite(_) => "sqlite".to_string(),
        })
    }

    /// Closes the store. PostgreSQL: the pool's idle connections at once, those lent out
    /// when their call ends; calls still waiting for a thread fail with `CLOSED`, and the
    /// threads end. SQLite: the connection. Later calls fail with `CLOSED`.
    #[napi]
    pub fn close(&self, env: &Env) -> Result<()> {
        let engine = self.engine.lock().ok().and_then(|mut engine| engine.take());
        match engine {
            Some(Engine::Postgres(pool)) => {
                pool.close();
                Ok(())
            }
            Some(Engine::Sqlite(own)) => own.close().map_err(|e| to_js(env, e)),
            None => Ok(()),
        }
    }
}
