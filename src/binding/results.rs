//! Results as values of the caller's realm. A result goes back one of two ways: as JSON
//! text parsed by the realm's `JSON.parse` (any result: `json`), or built by the realm's
//! factory for its shape, a function `lib/results.js` defines in every realm that takes the
//! result's fields as arguments (`Shape`; for the results of the request path). Either
//! way every object and array is the realm's, and the result is the same: the keys and
//! their order serde's JSON has (a field serde skips is `undefined` to the factory, which
//! leaves the key out), numbers as JSON has them (a non-finite one is `null`), `metadata`
//! a fresh object parsed from its JSON text. Which way each shape goes is measured
//! (`bench/marshal.js`, docs/performance.md); each `ToJs` impl destructures its struct
//! whole, so a field added to one is a compile error here until its factory has it.

use super::env_data::{factory, parse_json, CallArgs, JsFunction, Shape};
use control_plane_core::metering::limits::{ConsumeCheck, Consumption, UsageLimit, UsageLimitCheck};
use control_plane_core::metering::usage::{UsageBatch, UsageEvent, UsageIds};
use control_plane_core::tenancy::orgs::Org;
use napi::bindgen_prelude::{Null, ToNapiValue, Undefined, Unknown};
use napi::{Env, Error, Result, Status};
use serde::Serialize;
use serde_json::Value;

/// A result handed back to JS.
pub trait ToJs: Serialize {
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>>;
}

/// Any result, as JSON text parsed by the realm's `JSON.parse`.
pub fn json<'e, T: Serialize + ?Sized>(env: &'e Env, value: &T) -> Result<Unknown<'e>> {
    let text = serde_json::to_string(value).map_err(|e| Error::new(Status::GenericFailure, format!("serialising a result: {e}")))?;
    parse_json(env, &text)
}

/// The arguments of a factory, each made as serde's JSON would have the field.
struct Args<'e> {
    env: &'e Env,
    args: CallArgs,
}

impl<'e> Args<'e> {
    fn new(env: &'e Env, capacity: usize) -> Self {
        Args { env, args: CallArgs::with_capacity(capacity) }
    }

    fn push<T: ToNapiValue>(&mut self, value: T) -> Result<()> {
        self.args.push(value.into_unknown(self.env)?);
        Ok(())
    }

    fn int(&mut self, n: i64) -> Result<()> {
        // As JSON.parse reads the integer's digits: the nearest double.
        self.push(n as f64)
    }

    fn number(&mut self, n: f64) -> Result<()> {
        // serde_json writes a NaN or an infinity as `null`.
        if n.is_finite() {
            self.push(n)
        } else {
            self.push(Null)
        }
    }

    fn opt_int(&mut self, n: Option<i64>) -> Result<()> {
        match n {
            Some(n) => self.int(n),
            None => self.push(Null),
        }
    }

    fn text(&mut self, s: &str) -> Result<()> {
        self.push(s)
    }

    fn opt_text(&mut self, s: &Option<String>) -> Result<()> {
        match s {
            Some(s) => self.text(s),
            None => self.push(Null),
        }
    }

    /// A field serde skips when it is `None`: `undefined`, which the factory leaves out.
    fn skipped_text(&mut self, s: &Option<String>) -> Result<()> {
        match s {
            Some(s) => self.text(s),
            None => self.push(Undefined::default()),
        }
    }

    fn skipped_bool(&mut self, b: Option<bool>) -> Result<()> {
        match b {
            Some(b) => self.push(b),
            None => self.push(Undefined::default()),
        }
    }

    /// A JSON object, as its JSON text: the factory parses it (`{}` made as a literal).
    fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let text = serde_json::to_string(value).map_err(|e| Error::new(Status::GenericFailure, format!("serialising a result: {e}")))?;
        self.text(&text)
    }

    fn call(self, factory: JsFunction<'e>) -> Result<Unknown<'e>> {
        factory.apply((), self.args).map_err(|_| Error::new(Status::GenericFailure, "a result factory failed"))
    }
}

/// `usageEvent`'s 11 arguments; `usageEvents` takes each event's but its metadata (its
/// `metadata` the JSON text of the events' metadata).
fn event_args(args: &mut Args, event: &UsageEvent, with_metadata: bool) -> Result<()> {
    let UsageEvent { id, org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata, idempotency_key, duplicate } = event;
    args.int(*id)?;
    args.text(org_id)?;
    args.opt_text(project_id)?;
    args.opt_text(run_id)?;
    args.text(metric)?;
    args.number(*quantity)?;
    args.text(unit)?;
    args.int(*observed_at_ms)?;
    if with_metadata {
        args.json(metadata)?;
    }
    args.skipped_text(idempotency_key)?;
    args.skipped_bool(*duplicate)
}
const EVENT_ARGS: usize = 11;

/// `usageLimitCheck`'s 10 arguments (the limit flattened into it), which `consumption`'s
/// checks start with.
fn check_args(args: &mut Args, check: &UsageLimitCheck) -> Result<()> {
    let UsageLimitCheck { limit, used_quantity, remaining_quantity, exceeded } = check;
    let UsageLimit { org_id, project_id, metric, unit, period, limit_quantity, updated_at_ms } = limit;
    args.text(org_id)?;
    args.opt_text(project_id)?;
    args.text(metric)?;
    args.text(unit)?;
    args.text(period)?;
    args.number(*limit_quantity)?;
    args.int(*updated_at_ms)?;
    args.number(*used_quantity)?;
    args.number(*remaining_quantity)?;
    args.push(*exceeded)
}
const CHECK_ARGS: usize = 10;
const CONSUME_CHECK_ARGS: usize = CHECK_ARGS + 4;

impl ToJs for UsageEvent {
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let Some(factory) = factory(env, Shape::UsageEvent)? else { return json(env, self) };
        let mut args = Args::new(env, EVENT_ARGS);
        event_args(&mut args, self, true)?;
        args.call(factory)
    }
}

impl ToJs for Option<UsageLimitCheck> {
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let Some(check) = self else { return Null.into_unknown(env) };
        let Some(factory) = factory(env, Shape::UsageLimitCheck)? else { return json(env, self) };
        let mut args = Args::new(env, CHECK_ARGS);
        check_args(&mut args, check)?;
        args.call(factory)
    }
}

impl ToJs for Consumption {
    /// `consumption(allowed, ...event, ...checks)`: the event's 11 arguments (its id `null`
    /// when there is none), then 14 for each check.
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let Some(factory) = factory(env, Shape::Consumption)? else { return json(env, self) };
        let Consumption { allowed, event, checks } = self;
        let mut args = Args::new(env, 1 + EVENT_ARGS + CONSUME_CHECK_ARGS * checks.len());
        args.push(*allowed)?;
        match event {
            Some(event) => event_args(&mut args, event, true)?,
            None => {
                args.push(Null)?;
                for _ in 1..EVENT_ARGS {
                    args.push(Undefined::default())?;
                }
            }
        }
        for check in checks {
            let ConsumeCheck { check, since_ms, until_ms, later_quantity, allowed } = check;
            check_args(&mut args, check)?;
            args.int(*since_ms)?;
            args.int(*until_ms)?;
            args.number(*later_quantity)?;
            args.push(*allowed)?;
        }
        args.call(factory)
    }
}

impl ToJs for Org {
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let Some(factory) = factory(env, Shape::Org)? else { return json(env, self) };
        let Org { org_id, slug, name, created_at_ms, status, suspended_at_ms, suspend_reason, deleted_at_ms } = self;
        let mut args = Args::new(env, 8);
        args.text(org_id)?;
        args.text(slug)?;
        args.text(name)?;
        args.int(*created_at_ms)?;
        args.text(status)?;
        args.opt_int(*suspended_at_ms)?;
        args.opt_text(suspend_reason)?;
        args.opt_int(*deleted_at_ms)?;
        args.call(factory)
    }
}

/// Events per call of `usageEvents`, ids per call of `usageIds`: a call's arguments are
/// on the stack.
const EVENTS_PER_CALL: usize = 64;
const IDS_PER_CALL: usize = 1024;

impl ToJs for UsageBatch {
    /// `usageEvents(into, metadata, ...events)` and `usageIds(into, count, ...ids)`, a
    /// slice at a time: each call adds to what the first one made (`into`, `undefined` at
    /// first). A slice's metadata goes as the JSON text of an array, parsed once, or
    /// `undefined` when each is `{}`.
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        match self {
            UsageBatch::Events(events) => {
                let Some(_) = factory(env, Shape::UsageEvents)? else { return json(env, self) };
                let mut into: Unknown<'e> = Undefined::default().into_unknown(env)?;
                for slice in events.chunks(EVENTS_PER_CALL).chain(events.is_empty().then_some(&[][..])) {
                    let mut args = Args::new(env, 2 + (EVENT_ARGS - 1) * slice.len());
                    args.args.push(into);
                    if slice.iter().all(|event| event.metadata.as_object().is_some_and(|m| m.is_empty())) {
                        args.push(Undefined::default())?;
                    } else {
                        let metadata: Vec<&Value> = slice.iter().map(|event| &event.metadata).collect();
                        args.json(&metadata)?;
                    }
                    for event in slice {
                        event_args(&mut args, event, false)?;
                    }
                    into = args.call(factory(env, Shape::UsageEvents)?.expect("registered"))?;
                }
                Ok(into)
            }
            UsageBatch::Ids(ids) => {
                let Some(_) = factory(env, Shape::UsageIds)? else { return json(env, self) };
                let UsageIds { count, ids } = ids;
                let mut into: Unknown<'e> = Undefined::default().into_unknown(env)?;
                for slice in ids.chunks(IDS_PER_CALL).chain(ids.is_empty().then_some(&[][..])) {
                    let mut args = Args::new(env, 2 + slice.len());
                    args.args.push(into);
                    args.push(*count as f64)?;
                    for id in slice {
                        args.int(*id)?;
                    }
                    into = args.call(factory(env, Shape::UsageIds)?.expect("registered"))?;
                }
                Ok(into)
            }
        }
    }
}
