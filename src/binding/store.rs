//! `ControlPlaneStore`: the class users construct, one napi-rs method per store method.
//! Each reads its JS input in Rust (`input`), runs the core on the store's engine, and
//! returns the result as JS values; every error is a `ControlPlaneError` (`env_data`).

use super::backend::Backend;
use super::env_data::to_js;
use super::input::{self, Read};
use super::call::{Given, Inputs};
use super::scope::OrgScope;
use std::cell::{Ref, RefCell};
use std::rc::Rc;
use control_plane_core::schema;
use napi::bindgen_prelude::{ObjectFinalize, Unknown};
use napi::{Env, Result, ValueType};
use napi_derive::napi;
use control_plane_core::validate::{Fields, Item};
use serde_json::Value;

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

    fn prepare_events(&self, _env: &Env, _events: &mut [Item]) -> Result<()> {
        Ok(())
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
