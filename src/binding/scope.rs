//! `store.forOrg(orgId, context?)`: a handle scoped to one org. It has the org-level
//! methods (written beside the store's, in `methods`), each taking its input without
//! `orgId`; the handle puts its org in, and an input that names another org is refused
//! with `TENANT_MISMATCH` before anything runs. The cross-tenant methods (`createOrg`,
//! `listOrgs`, `getOrgBySlug`, `checkRollups`, `purgeExpired`) are not on it.

use super::env_data::to_js;
use super::input::{self, Read};
use super::call::{Given, Inputs};
use super::backend::Backend;
use control_plane_core::error::CpError;
use control_plane_core::validate::{Field, Fields, Input, Item};
use napi::bindgen_prelude::Unknown;
use napi::{Env, Result, ValueType};
use napi_derive::napi;
use serde_json::{json, Map, Value};
use std::cell::{Ref, RefCell};
use std::rc::Rc;

#[napi]
pub struct OrgScope {
    backend: Rc<RefCell<Backend>>,
    scoping: Scoping,
}

/// What a handle scoped to one org puts into every input: its org, and its request
/// context. The async store's `forOrg` scopes by the same.
#[derive(Clone)]
pub struct Scoping {
    pub org_id: String,
    /// The request context: `actorId` is the default actor of every audited write, and
    /// `ipAddress`, `userAgent`, `requestId` go on every audit event written through it.
    actor_id: Option<String>,
    context: Map<String, Value>,
}

fn mismatch(expected: &str, got: &Value) -> CpError {
    let got_text = got.as_str().map(str::to_string).unwrap_or_else(|| got.to_string());
    CpError::new(
        "TENANT_MISMATCH",
        format!("This handle is scoped to org {expected}; the input names org {got_text}."),
        Some(json!({ "expected": expected, "got": got })),
    )
}

impl OrgScope {
    pub fn new(env: &Env, backend: Rc<RefCell<Backend>>, org_id: Unknown, context: Option<Unknown>) -> Result<OrgScope> {
        Ok(OrgScope { backend, scoping: Scoping::read(env, org_id, context)? })
    }

    /// Puts the handle's org (and default actor) into one input object.
    pub(crate) fn scope(&self, value: &mut Value) -> std::result::Result<(), CpError> {
        self.scoping.scope(value)
    }

    /// `scope`, on an input object's fields.
    pub(crate) fn scope_fields(&self, fields: &mut Fields) -> std::result::Result<(), CpError> {
        self.scoping.scope_fields(fields)
    }

    /// This handle's org as an input object.
    pub(crate) fn org_input(&self) -> Value {
        self.scoping.org_input()
    }
}

impl Scoping {
    /// `forOrg(orgId, context?)`'s arguments, read as given.
    pub fn read(env: &Env, org_id: Unknown, context: Option<Unknown>) -> Result<Scoping> {
        let org = input::read_field(env, org_id, "orgId").map_err(|e| to_js(env, e))?;
        let org = json!({ "orgId": org });
        let org_id = Input::new(&org).and_then(|i| i.id("orgId")).map_err(|e| to_js(env, e))?;
        let context = match context {
            Some(c) if !matches!(c.get_type(), Ok(ValueType::Undefined | ValueType::Null)) => {
                input::read(env, c).map_err(|e| to_js(env, e))?
            }
            _ => json!({}),
        };
        let fields = Input::new(&context).map_err(|_| to_js(env, CpError::field("context", "context must be an object.")))?;
        let actor_id = fields.opt_id("actorId").map_err(|e| to_js(env, e))?;
        let mut kept = Map::new();
        for field in ["ipAddress", "userAgent", "requestId"] {
            if let Some(value) = fields.opt_string(field).map_err(|e| to_js(env, e))? {
                kept.insert(field.to_string(), Value::String(value));
            }
        }
        Ok(Scoping { org_id, actor_id, context: kept })
    }

    /// Puts the handle's org (and default actor) into one input object (a batch's event).
    pub(crate) fn scope(&self, value: &mut Value) -> std::result::Result<(), CpError> {
        let Value::Object(map) = value else { return Ok(()) };
        match map.get("orgId") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.trim() == self.org_id => {}
            Some(other) => return Err(mismatch(&self.org_id, other)),
        }
        map.insert("orgId".into(), Value::String(self.org_id.clone()));
        if let Some(actor) = &self.actor_id {
            if map.get("actorId").is_none_or(Value::is_null) {
                map.insert("actorId".into(), Value::String(actor.clone()));
            }
        }
        for (field, value) in &self.context {
            if map.get(field).is_none_or(Value::is_null) {
                map.insert(field.clone(), value.clone());
            }
        }
        Ok(())
    }

    /// `scope`, on an input object's fields.
    pub(crate) fn scope_fields(&self, fields: &mut Fields) -> std::result::Result<(), CpError> {
        match fields.field("orgId") {
            None | Some(Field::Null) => {}
            Some(Field::Text(s)) if s.trim() == self.org_id => {}
            Some(other) => return Err(mismatch(&self.org_id, &other.json())),
        }
        fields.set("orgId", Field::Text(self.org_id.clone()));
        if let Some(actor) = &self.actor_id {
            if fields.field("actorId").is_none_or(|f| *f == Field::Null) {
                fields.set("actorId", Field::Text(actor.clone()));
            }
        }
        for (field, value) in &self.context {
            if fields.field(field).is_none_or(|f| *f == Field::Null) {
                fields.set(field, Field::Text(value.as_str().unwrap_or_default().to_string()));
            }
        }
        Ok(())
    }

    /// This handle's org as an input object.
    pub(crate) fn org_input(&self) -> Value {
        json!({ "orgId": self.org_id })
    }

    /// The request context as `forOrg`'s handle reports it.
    pub(crate) fn context_json(&self) -> Value {
        let mut context = self.context.clone();
        if let Some(actor) = &self.actor_id {
            context.insert("actorId".into(), Value::String(actor.clone()));
        }
        Value::Object(context)
    }
}

impl Inputs for OrgScope {
    fn backend(&self) -> Ref<'_, Backend> {
        self.backend.borrow()
    }

    fn input(&self, env: &Env, input: Option<Unknown>, _given: Given) -> Result<Read> {
        let read = match input {
            Some(input) if !matches!(input.get_type(), Ok(ValueType::Undefined | ValueType::Null)) => {
                input::read_input(env, input).map_err(|e| to_js(env, e))?
            }
            _ => Read::Fields(Fields::default()),
        };
        self.prepare(env, read)
    }

    fn prepare(&self, env: &Env, read: Read) -> Result<Read> {
        match read {
            Read::Fields(mut fields) => {
                self.scope_fields(&mut fields).map_err(|e| to_js(env, e))?;
                Ok(Read::Fields(fields))
            }
            Read::Json(mut value) if value.is_object() => {
                self.scope(&mut value).map_err(|e| to_js(env, e))?;
                Ok(Read::Json(value))
            }
            Read::Json(_) => Err(to_js(env, CpError::field("input", "input must be an object."))),
        }
    }

    fn prepare_events(&self, env: &Env, events: &mut [Item]) -> Result<()> {
        for event in events.iter_mut() {
            match event {
                Item::Fields(fields) => self.scope_fields(fields),
                Item::Json(value) => self.scope(value),
            }
            .map_err(|e| to_js(env, e))?;
        }
        Ok(())
    }
}

#[napi]
impl OrgScope {
    /// The org this handle is scoped to.
    #[napi(getter)]
    pub fn org_id(&self) -> String {
        self.scoping.org_id.clone()
    }

    /// The request context given to `forOrg`.
    #[napi(getter, ts_return_type = "ControlPlaneRequestContext")]
    pub fn context<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        super::env_data::parse_json(env, &self.scoping.context_json().to_string())
    }
}
