//! `ControlPlaneStore`: the class users construct, one napi-rs method per store method.
//! Each reads its JS input in Rust (`input`), runs the core on the store's engine, and
//! returns the result as JS values; every error is a `ControlPlaneError` (`env_data`).

use super::connection::{closed, Own};
use super::database::Database;
use super::env_data::{parse_json, to_js};
use super::host::{HostEngine, HostHandle};
use super::input;
use crate::core::error::{CpError, Result as CoreResult};
use crate::core::{schema, store};
use crate::engine::sqlite::SqliteEngine;
use crate::engine::Db;
use napi::bindgen_prelude::{AsyncTask, ClassInstance, FromNapiValue, JavaScriptClassExt, Object, ObjectFinalize, Unknown};
use napi::ScopedTask;
use napi::{Env, JsValue, Result, ValueType};
use napi_derive::napi;
use serde_json::{json, Value};
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
                let path = unsafe { sqlite.cast::<String>() }.map_err(|_| invalid())?;
                let own = if crate::engine::sqlite::is_memory_path(&path) {
                    Own::open_memory_store()?
                } else {
                    super::connection_for_path(env, &path)?
                };
                Ok(Backend::Own { own, owned: true })
            }
            ValueType::Object => {
                if Database::instance_of(env, &sqlite).unwrap_or(false) {
                    let db = unsafe { ClassInstance::<Database>::from_napi_value(env.raw(), sqlite.raw()) }.map_err(|_| invalid())?;
                    db.own.load_schema_if_empty()?;
                    return Ok(Backend::Own { own: db.own.clone(), owned: false });
                }
                let handle = unsafe { sqlite.cast::<Object>() }.map_err(|_| invalid())?;
                let host = HostHandle::new(env, handle)?;
                // As the documented store does; better-sqlite3 has it on already, bun:sqlite
                // and node:sqlite do not.
                crate::engine::Engine::script(&HostEngine { env, host: &host }, "PRAGMA foreign_keys = ON")?;
                Ok(Backend::Host(Some(host)))
            }
            _ => Err(invalid()),
        }
    }

    /// Runs `f` on the engine, on this thread.
    pub fn run<T>(&self, env: &Env, f: impl FnOnce(&Db) -> CoreResult<T>) -> CoreResult<T> {
        match self {
            Backend::Own { own, .. } => own.with(|engine| f(engine)),
            Backend::Host(Some(host)) => f(&HostEngine { env, host }),
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
    backend: Backend,
}

impl ObjectFinalize for ControlPlaneStore {
    fn finalize(mut self, env: Env) -> Result<()> {
        // A connection the store opened is closed with it; a handle is let go.
        let _ = self.backend.close(&env);
        Ok(())
    }
}

/// A long method run on the libuv thread pool: the export of an org, to memory or a file.
pub struct AsyncCall {
    work: AsyncWork,
    method: &'static str,
    input: Value,
}

enum AsyncWork {
    /// On a connection of ours: a file gets a connection of its own for the work.
    Own(Arc<Own>),
    /// On a host handle the work already ran on the JS thread (the handle cannot be used
    /// elsewhere); the task only hands over its result.
    Done(Option<CoreResult<String>>),
}

impl<'task> ScopedTask<'task> for AsyncCall {
    type Output = CoreResult<String>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> Result<CoreResult<String>> {
        Ok(match &mut self.work {
            AsyncWork::Done(result) => result.take().unwrap_or_else(|| Err(closed())),
            AsyncWork::Own(own) => match &own.path {
                Some(path) => SqliteEngine::open(path).and_then(|engine| store::call_value(&engine, self.method, &self.input)),
                None => own.with(|engine| store::call_value(engine, self.method, &self.input)),
            },
        })
    }

    fn resolve(&mut self, env: &'task Env, output: CoreResult<String>) -> Result<Unknown<'task>> {
        match output {
            Ok(text) => parse_json(env, &text),
            Err(err) => Err(to_js(env, err)),
        }
    }
}

impl ControlPlaneStore {
    /// Reads `input` (an object) and runs `method` on it.
    fn call(&self, env: &Env, method: &str, input: Unknown) -> Result<Unknown<'_>> {
        let value = input::read(env, input.raw()).map_err(|e| to_js(env, e))?;
        self.call_value(env, method, value)
    }

    /// Like `call`, with `{}` for a missing input (methods whose fields are all optional).
    fn call_or_empty(&self, env: &Env, method: &str, input: Option<Unknown>) -> Result<Unknown<'_>> {
        match input {
            Some(input) if !matches!(input.get_type(), Ok(ValueType::Undefined | ValueType::Null)) => self.call(env, method, input),
            _ => self.call_value(env, method, json!({})),
        }
    }

    /// A method taking one field rather than an object (`getOrg(orgId)`).
    fn call_field(&self, env: &Env, method: &str, field: &str, value: Unknown) -> Result<Unknown<'_>> {
        let value = input::read_field(env, value.raw(), field).map_err(|e| to_js(env, e))?;
        self.call_value(env, method, json!({ field: value }))
    }

    fn call_value(&self, env: &Env, method: &str, input: Value) -> Result<Unknown<'_>> {
        let text = self.backend.run(env, |db| store::call_value(db, method, &input)).map_err(|e| to_js(env, e))?;
        let env: &Env = unsafe { &*(env as *const Env) };
        parse_json(env, &text)
    }

    /// A method whose result is `undefined`.
    fn call_void(&self, env: &Env, method: &str, input: Unknown) -> Result<()> {
        let value = input::read(env, input.raw()).map_err(|e| to_js(env, e))?;
        self.backend.run(env, |db| store::call_value(db, method, &value)).map(|_| ()).map_err(|e| to_js(env, e))
    }

    fn call_async(&self, env: &Env, method: &'static str, input: Unknown) -> Result<AsyncTask<AsyncCall>> {
        let input = input::read(env, input.raw()).map_err(|e| to_js(env, e))?;
        let work = match &self.backend {
            Backend::Own { own, .. } if own.is_open() => AsyncWork::Own(own.clone()),
            Backend::Own { .. } | Backend::Host(None) => return Err(to_js(env, closed())),
            Backend::Host(Some(_)) => AsyncWork::Done(Some(self.backend.run(env, |db| store::call_value(db, method, &input)))),
        };
        Ok(AsyncTask::new(AsyncCall { work, method, input }))
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
        Ok(ControlPlaneStore { backend })
    }

    /// Closes the connection if the store opened it (a path); on a `Database` or another
    /// binding's handle, lets go of it and leaves it open for its owner.
    #[napi]
    pub fn close(&mut self, env: Env) -> Result<()> {
        self.backend.close(&env).map_err(|e| to_js(&env, e))
    }

    #[napi]
    pub fn create_org(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "createOrg", input)
    }
    #[napi]
    pub fn get_org(&self, env: Env, org_id: Unknown) -> Result<Unknown<'_>> {
        self.call_field(&env, "getOrg", "orgId", org_id)
    }
    #[napi]
    pub fn get_org_by_slug(&self, env: Env, slug: Unknown) -> Result<Unknown<'_>> {
        self.call_field(&env, "getOrgBySlug", "slug", slug)
    }
    #[napi]
    pub fn create_team(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "createTeam", input)
    }
    #[napi]
    pub fn add_team_member(&self, env: Env, input: Unknown) -> Result<()> {
        self.call_void(&env, "addTeamMember", input)
    }
    #[napi]
    pub fn create_project(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "createProject", input)
    }
    #[napi]
    pub fn add_project_team(&self, env: Env, input: Unknown) -> Result<()> {
        self.call_void(&env, "addProjectTeam", input)
    }
    #[napi]
    pub fn upsert_billing_account(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "upsertBillingAccount", input)
    }
    #[napi]
    pub fn upsert_identity_provider(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "upsertIdentityProvider", input)
    }
    #[napi]
    pub fn list_identity_providers(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "listIdentityProviders", input)
    }
    #[napi]
    pub fn record_usage(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "recordUsage", input)
    }
    /// Records every event or none, in one transaction; errors name the event's index.
    #[napi]
    pub fn record_usage_batch(&self, env: Env, events: Unknown, options: Option<Unknown>) -> Result<Unknown<'_>> {
        if !events.is_array().unwrap_or(false) {
            return Err(to_js(&env, CpError::field("events", "events must be an array.")));
        }
        let events = input::read_field(&env, events.raw(), "events").map_err(|e| to_js(&env, e))?;
        let returning = match options {
            Some(options) if options.get_type().ok() == Some(ValueType::Object) => {
                match input::read(&env, options.raw()).map_err(|e| to_js(&env, e))?.get("returning") {
                    Some(Value::Null) | None => json!("events"),
                    Some(value) => value.clone(),
                }
            }
            _ => json!("events"),
        };
        self.call_value(&env, "recordUsageBatch", json!({ "events": events, "returning": returning }))
    }
    /// Checks every limit that applies and records the event only if it fits them all.
    #[napi]
    pub fn consume_usage(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "consumeUsage", input)
    }
    #[napi]
    pub fn summarize_usage(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "summarizeUsage", input)
    }
    #[napi]
    pub fn set_usage_limit(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "setUsageLimit", input)
    }
    #[napi]
    pub fn check_usage_limit(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "checkUsageLimit", input)
    }
    #[napi]
    pub fn put_secret_ref(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "putSecretRef", input)
    }
    #[napi]
    pub fn list_secret_refs(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "listSecretRefs", input)
    }
    #[napi]
    pub fn record_audit_event(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "recordAuditEvent", input)
    }
    #[napi]
    pub fn export_org_audit(&self, env: Env, input: Unknown) -> Result<Unknown<'_>> {
        self.call(&env, "exportOrgAudit", input)
    }
    /// `exportOrgAudit` on the libuv thread pool (on a host handle, on the JS thread).
    #[napi(ts_return_type = "Promise<ControlPlaneExport>")]
    pub fn export_org_audit_async(&self, env: Env, input: Unknown) -> Result<AsyncTask<AsyncCall>> {
        self.call_async(&env, "exportOrgAudit", input)
    }
    /// Streams the export to a file (json, ndjson or csv), atomically, off the JS thread.
    #[napi(ts_return_type = "Promise<ControlPlaneFileExport>")]
    pub fn export_org_audit_to_file(&self, env: Env, input: Unknown) -> Result<AsyncTask<AsyncCall>> {
        self.call_async(&env, "exportOrgAuditToFile", input)
    }
    #[napi]
    pub fn suspend_org(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "suspendOrg", input)
    }
    #[napi]
    pub fn unsuspend_org(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "unsuspendOrg", input)
    }
    #[napi]
    pub fn delete_org(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "deleteOrg", input)
    }
    #[napi]
    pub fn list_orgs(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "listOrgs", input)
    }
    #[napi]
    pub fn list_teams(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "listTeams", input)
    }
    #[napi]
    pub fn get_team(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "getTeam", input)
    }
    #[napi]
    pub fn list_team_members(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "listTeamMembers", input)
    }
    #[napi]
    pub fn list_projects(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "listProjects", input)
    }
    #[napi]
    pub fn get_project(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "getProject", input)
    }
    #[napi]
    pub fn list_project_teams(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "listProjectTeams", input)
    }
    #[napi]
    pub fn get_billing_account(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "getBillingAccount", input)
    }
    #[napi]
    pub fn list_usage_limits(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "listUsageLimits", input)
    }
    #[napi]
    pub fn list_project_access(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "listProjectAccess", input)
    }
    #[napi]
    pub fn get_project_access(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "getProjectAccess", input)
    }
    #[napi]
    pub fn set_org_quota(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "setOrgQuota", input)
    }
    #[napi]
    pub fn get_org_quota(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "getOrgQuota", input)
    }
    #[napi]
    pub fn query_audit_log(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "queryAuditLog", input)
    }
    #[napi]
    pub fn explain_audit_query(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "explainAuditQuery", input)
    }
    #[napi]
    pub fn verify_audit_chain(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "verifyAuditChain", input)
    }
    /// Compares the usage rollups with the raw events (a pass over every event) and
    /// rebuilds them when they disagree, unless `repair` is false. Opening a file trusts
    /// them; this is the check, on demand (`control-plane doctor`).
    #[napi]
    pub fn check_rollups(&self, env: Env, input: Option<Unknown>) -> Result<Unknown<'_>> {
        self.call_or_empty(&env, "checkRollups", input)
    }
    /// `verifyAuditChain` on the libuv thread pool (on a host handle, on the JS thread).
    #[napi(ts_return_type = "Promise<ControlPlaneChainReport>")]
    pub fn verify_audit_chain_async(&self, env: Env, input: Unknown) -> Result<AsyncTask<AsyncCall>> {
        self.call_async(&env, "verifyAuditChain", input)
    }
    #[napi]
    pub fn remove_team_member(&self, env: Env, input: Unknown) -> Result<()> {
        self.call_void(&env, "removeTeamMember", input)
    }
    #[napi]
    pub fn remove_project_team(&self, env: Env, input: Unknown) -> Result<()> {
        self.call_void(&env, "removeProjectTeam", input)
    }
    #[napi]
    pub fn delete_team(&self, env: Env, input: Unknown) -> Result<()> {
        self.call_void(&env, "deleteTeam", input)
    }
    #[napi]
    pub fn delete_project(&self, env: Env, input: Unknown) -> Result<()> {
        self.call_void(&env, "deleteProject", input)
    }
    #[napi]
    pub fn delete_identity_provider(&self, env: Env, input: Unknown) -> Result<()> {
        self.call_void(&env, "deleteIdentityProvider", input)
    }
    #[napi]
    pub fn delete_usage_limit(&self, env: Env, input: Unknown) -> Result<()> {
        self.call_void(&env, "deleteUsageLimit", input)
    }
    #[napi]
    pub fn delete_secret_ref(&self, env: Env, input: Unknown) -> Result<()> {
        self.call_void(&env, "deleteSecretRef", input)
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
