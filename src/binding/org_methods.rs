//! The methods of one org, defined once for both classes that have them: the store
//! (`ControlPlaneStore`, the input as given) and the handle scoped to one org (`OrgScope`,
//! the org put in by the handle). Each class says how it reads an input (`Inputs`); the
//! macro writes one napi-rs method per method name, which is its JS method, its dispatch
//! and its entry in the generated types.

use super::env_data::{parse_json, to_js};
use super::input;
use control_plane_core::error::CpError;
use napi::{JsValue, ValueType};
use serde_json::json;
use super::store::AsyncCall;
use control_plane_core::store;
use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, Result};
use serde_json::Value;

pub use super::call::Inputs;
use super::call::Given;

fn given(required: bool) -> Given {
    if required {
        Given::Required
    } else {
        Given::Optional
    }
}

pub fn value<'a, C: Inputs>(class: &'a C, env: &Env, method: &str, input: Option<Unknown>, required: bool) -> Result<Unknown<'a>> {
    let input = class.input(env, input, given(required))?;
    run_value(class, env, method, input)
}

pub fn run_value<'a, C: Inputs>(class: &'a C, env: &Env, method: &str, input: Value) -> Result<Unknown<'a>> {
    let text = class.backend().run(env, |db| store::call_value(db, method, &input)).map_err(|e| to_js(env, e))?;
    // The JS value lives for this call only, in which napi-rs hands it straight back to JS;
    // the generated methods take their `Env` by value, so the result is tied to the class.
    let env: &Env = unsafe { &*(env as *const Env) };
    parse_json(env, &text)
}

pub fn void<C: Inputs>(class: &C, env: &Env, method: &str, input: Option<Unknown>) -> Result<()> {
    let input = class.input(env, input, Given::Required)?;
    class.backend().run(env, |db| store::call_value(db, method, &input)).map(|_| ()).map_err(|e| to_js(env, e))
}

pub fn task<C: Inputs>(class: &C, env: &Env, method: &'static str, input: Option<Unknown>) -> Result<AsyncTask<AsyncCall>> {
    let input = class.input(env, input, Given::Required)?;
    class.backend().task(env, method, input)
}

/// `recordUsageBatch(events, options?)`'s input: `{events, returning}`.
pub fn batch_input(env: &Env, events: Unknown, options: Option<Unknown>) -> Result<Value> {
    if !events.is_array().unwrap_or(false) {
        return Err(to_js(env, CpError::field("events", "events must be an array.")));
    }
    let events = input::read_field(env, events.raw(), "events").map_err(|e| to_js(env, e))?;
    let returning = match options {
        Some(options) if options.get_type().ok() == Some(ValueType::Object) => {
            match input::read(env, options.raw()).map_err(|e| to_js(env, e))?.get("returning") {
                Some(Value::Null) | None => json!("events"),
                Some(value) => value.clone(),
            }
        }
        _ => json!("events"),
    };
    Ok(json!({ "events": events, "returning": returning }))
}

/// One napi-rs method per name, in four shapes: a result (`required`: the documented
/// store's, whose input must be given; `optional`: a missing input is `{}`), `undefined`
/// (`void`), or a promise run on the thread pool (`promise`).
macro_rules! org_methods {
    ($class:ident {
        required: [$($required:ident = $required_js:literal),* $(,)?],
        optional: [$($optional:ident = $optional_js:literal),* $(,)?],
        void: [$($void:ident = $void_js:literal),* $(,)?],
        promise: [$($promise:ident = $promise_js:literal),* $(,)?] $(,)?
    }) => {
        #[napi_derive::napi]
        impl $class {
            $(
                #[napi]
                pub fn $required(&self, env: napi::Env, input: Option<napi::bindgen_prelude::Unknown>) -> napi::Result<napi::bindgen_prelude::Unknown<'_>> {
                    $crate::binding::org_methods::value(self, &env, $required_js, input, true)
                }
            )*
            $(
                #[napi]
                pub fn $optional(&self, env: napi::Env, input: Option<napi::bindgen_prelude::Unknown>) -> napi::Result<napi::bindgen_prelude::Unknown<'_>> {
                    $crate::binding::org_methods::value(self, &env, $optional_js, input, false)
                }
            )*
            $(
                #[napi]
                pub fn $void(&self, env: napi::Env, input: Option<napi::bindgen_prelude::Unknown>) -> napi::Result<()> {
                    $crate::binding::org_methods::void(self, &env, $void_js, input)
                }
            )*
            $(
                #[napi]
                pub fn $promise(&self, env: napi::Env, input: Option<napi::bindgen_prelude::Unknown>) -> napi::Result<napi::bindgen_prelude::AsyncTask<$crate::binding::store::AsyncCall>> {
                    $crate::binding::org_methods::task(self, &env, $promise_js, input)
                }
            )*
        }
    };
}

/// The org-level methods, for `org_methods!`.
macro_rules! for_each_org_method {
    ($class:ident) => {
        $crate::binding::org_methods::org_methods!($class {
            required: [
                record_usage = "recordUsage",
                consume_usage = "consumeUsage",
                summarize_usage = "summarizeUsage",
                set_usage_limit = "setUsageLimit",
                check_usage_limit = "checkUsageLimit",
                record_audit_event = "recordAuditEvent",
                export_org_audit = "exportOrgAudit",
                set_retention = "setRetention",
            ],
            optional: [
                list_usage_limits = "listUsageLimits",
                query_audit_log = "queryAuditLog",
                explain_audit_query = "explainAuditQuery",
                verify_audit_chain = "verifyAuditChain",
                get_retention = "getRetention",
            ],
            void: [
                delete_usage_limit = "deleteUsageLimit",
            ],
            promise: [
                export_org_audit_async = "exportOrgAudit",
                export_org_audit_to_file = "exportOrgAuditToFile",
                verify_audit_chain_async = "verifyAuditChain",
            ],
        });
    };
}

pub(crate) use {for_each_org_method, org_methods};
