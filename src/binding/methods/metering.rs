//! Usage events, usage limits and the rollups' check.

use crate::binding::call::{self, Given::*};
use crate::binding::env_data::to_js;
use crate::binding::input::{self, Read};
use crate::binding::scope::OrgScope;
use crate::binding::store::ControlPlaneStore;
use control_plane_core::error::CpError;
use control_plane_core::metering::{consume, limits, rollups, usage};
use control_plane_core::validate::{Field, Fields, Item};
use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue, Result, ValueType};
use napi_derive::napi;
use serde_json::{json, Value};

/// `recordUsageBatch(events, options?)`'s input: `{events, returning}`, each event read
/// as an input of its own.
fn batch_input(env: &Env, events: Unknown, options: Option<Unknown>) -> Result<Read> {
    if !events.is_array().unwrap_or(false) {
        return Err(to_js(env, CpError::field("events", "events must be an array.")));
    }
    let events = input::read_events(env, events).map_err(|e| to_js(env, e))?;
    let returning = match options {
        Some(options) if options.get_type().ok() == Some(ValueType::Object) => {
            match input::read(env, options).map_err(|e| to_js(env, e))?.get("returning") {
                Some(Value::Null) | None => json!("events"),
                Some(value) => value.clone(),
            }
        }
        _ => json!("events"),
    };
    let mut fields = Fields::with_capacity(2);
    fields.push("events", Field::Inputs(events));
    fields.push("returning", Field::Json(returning));
    Ok(Read::Fields(fields))
}

#[napi]
impl ControlPlaneStore {
    /// Records one event; a repeated idempotency key returns the event first recorded.
    #[napi(ts_args_type = "input: ControlPlaneUsageInput", ts_return_type = "ControlPlaneUsageEvent")]
    pub fn record_usage<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::built(self, env, input, Required, usage::record)
    }

    /// Records every event or none, in one transaction; errors name the event's index.
    #[napi(
        ts_generic_types = "R extends ControlPlaneUsageBatchReturning = \"events\"",
        ts_args_type = "events: ControlPlaneUsageInput[], options?: { returning?: R | null }",
        ts_return_type = "ControlPlaneUsageBatchOf<R>"
    )]
    pub fn record_usage_batch<'e>(&self, env: &'e Env, events: Unknown, options: Option<Unknown>) -> Result<Unknown<'e>> {
        call::run_built(self, env, &batch_input(env, events, options)?, usage::record_batch)
    }

    /// Checks every limit that applies (the project's and the org-wide ones, every period)
    /// and records the event only if it fits them all, atomically.
    #[napi(ts_args_type = "input: ControlPlaneUsageInput", ts_return_type = "ControlPlaneConsumption")]
    pub fn consume_usage<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::built(self, env, input, Required, consume::consume)
    }

    /// By default the quantities summed per metric and unit over the window.
    #[napi(
        ts_generic_types = "I extends ControlPlaneUsageSummaryInput",
        ts_args_type = "input: I",
        ts_return_type = "ControlPlaneUsageRows<I>"
    )]
    pub fn summarize_usage<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, usage::summarize)
    }

    #[napi(ts_args_type = "input: ControlPlaneSetUsageLimitInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneUsageLimit")]
    pub fn set_usage_limit<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, limits::set)
    }

    /// `null` when no limit is set for exactly this scope.
    #[napi(ts_args_type = "input: ControlPlaneCheckUsageLimitInput", ts_return_type = "ControlPlaneUsageLimitCheck | null")]
    pub fn check_usage_limit<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::built(self, env, input, Required, limits::check)
    }

    /// By (scope, metric, unit, period), the org-wide ones first.
    #[napi(ts_args_type = "input?: ControlPlaneListUsageLimitsInput", ts_return_type = "ControlPlanePage<ControlPlaneUsageLimit>")]
    pub fn list_usage_limits<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, limits::list_page)
    }

    /// `NOT_FOUND` when no such limit is set.
    #[napi(ts_args_type = "input: ControlPlaneDeleteUsageLimitInput & ControlPlaneRequestOrigin")]
    pub fn delete_usage_limit(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, limits::delete)
    }

    /// Compares the usage rollups with the raw events (a pass over every event) and
    /// rebuilds them when they disagree, unless `repair` is false. Opening a file trusts
    /// them; this is the check, on demand (`control-plane doctor`).
    #[napi(ts_args_type = "input?: ControlPlaneCheckRollupsInput", ts_return_type = "ControlPlaneRollupCheck")]
    pub fn check_rollups<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, rollups::check)
    }
}

#[napi]
impl OrgScope {
    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneUsageInput>", ts_return_type = "ControlPlaneUsageEvent")]
    pub fn record_usage<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::built(self, env, input, Required, usage::record)
    }

    /// Records every event or none; each event's org is this handle's.
    #[napi(
        ts_generic_types = "R extends ControlPlaneUsageBatchReturning = \"events\"",
        ts_args_type = "events: ScopedInput<ControlPlaneUsageInput>[], options?: { returning?: R | null }",
        ts_return_type = "ControlPlaneUsageBatchOf<R>"
    )]
    pub fn record_usage_batch<'e>(&self, env: &'e Env, events: Unknown, options: Option<Unknown>) -> Result<Unknown<'e>> {
        let mut input = batch_input(env, events, options)?;
        if let Read::Fields(fields) = &mut input {
            if let Some(Field::Inputs(events)) = fields.field_mut("events") {
                for event in events.iter_mut() {
                    match event {
                        Item::Fields(fields) => self.scope_fields(fields),
                        Item::Json(value) => self.scope(value),
                    }
                    .map_err(|e| to_js(env, e))?;
                }
            }
        }
        call::run_built(self, env, &input, usage::record_batch)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneUsageInput>", ts_return_type = "ControlPlaneConsumption")]
    pub fn consume_usage<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::built(self, env, input, Required, consume::consume)
    }

    #[napi(
        ts_generic_types = "I extends ScopedInput<ControlPlaneUsageSummaryInput> = {}",
        ts_args_type = "input?: I",
        ts_return_type = "ControlPlaneUsageRows<I>"
    )]
    pub fn summarize_usage<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, usage::summarize)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneSetUsageLimitInput>", ts_return_type = "ControlPlaneUsageLimit")]
    pub fn set_usage_limit<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, limits::set)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneCheckUsageLimitInput>", ts_return_type = "ControlPlaneUsageLimitCheck | null")]
    pub fn check_usage_limit<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::built(self, env, input, Required, limits::check)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneListUsageLimitsInput>", ts_return_type = "ControlPlanePage<ControlPlaneUsageLimit>")]
    pub fn list_usage_limits<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, limits::list_page)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneDeleteUsageLimitInput>")]
    pub fn delete_usage_limit(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, limits::delete)
    }
}
