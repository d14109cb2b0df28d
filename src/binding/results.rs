//! Results as values of the caller's realm. A result goes back one of two ways: as JSON
//! text parsed by the realm's `JSON.parse` (any result: `json`), or built by the realm's
//! factory for its shape, a function `lib/results.js` defines in every realm that takes the
//! result's fields as arguments (`Shape`; for the results of the request path). Either
//! way every object and array is the realm's, and the result is the same: the keys and
//! their order serde's JSON has (a field serde skips is `undefined` to the factory, which
//! leaves the key out), numbers as JSON has them (a non-finite one is `null`), `metadata`
//! a fresh object parsed from its JSON text. Which way each shape goes is measured
//! (`bench/marshal.js`, docs/performance.md); each `ToJs` impl destructures its struct
//! whole, so a field added to one is a compile error here until it is handed over.
//!
//! The order of a factory's arguments is written here only, once: each field is handed
//! over with its key (`Fields`), and `shapes()` runs the same code on a record that keeps
//! the keys. `lib/results.js` builds each realm's factories from those key lists
//! (`resultShapes()`).

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

/// Where a result's fields go, each with its key (the key as serde's JSON has it), in
/// the order its factory takes them: a factory's arguments (`Args`), or the keys alone
/// (`Keys`, for `shapes`).
trait Fields {
    fn int(&mut self, key: &'static str, n: i64) -> Result<()>;
    fn number(&mut self, key: &'static str, n: f64) -> Result<()>;
    fn opt_int(&mut self, key: &'static str, n: Option<i64>) -> Result<()>;
    fn text(&mut self, key: &'static str, s: &str) -> Result<()>;
    fn opt_text(&mut self, key: &'static str, s: &Option<String>) -> Result<()>;
    fn bool(&mut self, key: &'static str, b: bool) -> Result<()>;
    /// A field serde skips when it is `None`: `undefined`, which the factory leaves out.
    fn skipped_text(&mut self, key: &'static str, s: &Option<String>) -> Result<()>;
    fn skipped_bool(&mut self, key: &'static str, b: Option<bool>) -> Result<()>;
    /// A JSON object, as its JSON text: the factory parses it (`{}` made as a literal).
    fn json(&mut self, key: &'static str, value: &Value) -> Result<()>;
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

    fn json_text<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let text = serde_json::to_string(value).map_err(|e| Error::new(Status::GenericFailure, format!("serialising a result: {e}")))?;
        self.push(text.as_str())
    }

    fn call(self, factory: JsFunction<'e>) -> Result<Unknown<'e>> {
        factory.apply((), self.args).map_err(|_| Error::new(Status::GenericFailure, "a result factory failed"))
    }
}

impl Fields for Args<'_> {
    fn int(&mut self, _: &'static str, n: i64) -> Result<()> {
        // As JSON.parse reads the integer's digits: the nearest double.
        self.push(n as f64)
    }

    fn number(&mut self, _: &'static str, n: f64) -> Result<()> {
        // serde_json writes a NaN or an infinity as `null`.
        if n.is_finite() {
            self.push(n)
        } else {
            self.push(Null)
        }
    }

    fn opt_int(&mut self, key: &'static str, n: Option<i64>) -> Result<()> {
        match n {
            Some(n) => self.int(key, n),
            None => self.push(Null),
        }
    }

    fn text(&mut self, _: &'static str, s: &str) -> Result<()> {
        self.push(s)
    }

    fn opt_text(&mut self, _: &'static str, s: &Option<String>) -> Result<()> {
        match s {
            Some(s) => self.push(s.as_str()),
            None => self.push(Null),
        }
    }

    fn bool(&mut self, _: &'static str, b: bool) -> Result<()> {
        self.push(b)
    }

    fn skipped_text(&mut self, _: &'static str, s: &Option<String>) -> Result<()> {
        match s {
            Some(s) => self.push(s.as_str()),
            None => self.push(Undefined::default()),
        }
    }

    fn skipped_bool(&mut self, _: &'static str, b: Option<bool>) -> Result<()> {
        match b {
            Some(b) => self.push(b),
            None => self.push(Undefined::default()),
        }
    }

    fn json(&mut self, _: &'static str, value: &Value) -> Result<()> {
        self.json_text(value)
    }
}

/// A shape's keys in its factory's order: `key?` for one left out when `undefined`,
/// `key:json` for one handed over as JSON text.
#[derive(Default)]
struct Keys(Vec<String>);

impl Keys {
    fn key(&mut self, key: &str) -> Result<()> {
        self.0.push(key.to_string());
        Ok(())
    }
}

impl Fields for Keys {
    fn int(&mut self, key: &'static str, _: i64) -> Result<()> {
        self.key(key)
    }
    fn number(&mut self, key: &'static str, _: f64) -> Result<()> {
        self.key(key)
    }
    fn opt_int(&mut self, key: &'static str, _: Option<i64>) -> Result<()> {
        self.key(key)
    }
    fn text(&mut self, key: &'static str, _: &str) -> Result<()> {
        self.key(key)
    }
    fn opt_text(&mut self, key: &'static str, _: &Option<String>) -> Result<()> {
        self.key(key)
    }
    fn bool(&mut self, key: &'static str, _: bool) -> Result<()> {
        self.key(key)
    }
    fn skipped_text(&mut self, key: &'static str, _: &Option<String>) -> Result<()> {
        self.key(&format!("{key}?"))
    }
    fn skipped_bool(&mut self, key: &'static str, _: Option<bool>) -> Result<()> {
        self.key(&format!("{key}?"))
    }
    fn json(&mut self, key: &'static str, _: &Value) -> Result<()> {
        self.key(&format!("{key}:json"))
    }
}

/// A usage event's fields (`usageEvent`'s arguments); `usageEvents` takes each event's but
/// its metadata (its `metadata` the JSON text of the events' metadata).
fn event_args(args: &mut impl Fields, event: &UsageEvent, with_metadata: bool) -> Result<()> {
    let UsageEvent { id, org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata, idempotency_key, duplicate } = event;
    args.int("id", *id)?;
    args.text("orgId", org_id)?;
    args.opt_text("projectId", project_id)?;
    args.opt_text("runId", run_id)?;
    args.text("metric", metric)?;
    args.number("quantity", *quantity)?;
    args.text("unit", unit)?;
    args.int("observedAtMs", *observed_at_ms)?;
    if with_metadata {
        args.json("metadata", metadata)?;
    }
    args.skipped_text("idempotencyKey", idempotency_key)?;
    args.skipped_bool("duplicate", *duplicate)
}
const EVENT_ARGS: usize = 11;

/// A limit check's fields (`usageLimitCheck`'s arguments, the limit flattened into it),
/// which `consumption`'s checks start with.
fn check_args(args: &mut impl Fields, check: &UsageLimitCheck) -> Result<()> {
    let UsageLimitCheck { limit, used_quantity, remaining_quantity, exceeded } = check;
    let UsageLimit { org_id, project_id, metric, unit, period, limit_quantity, updated_at_ms } = limit;
    args.text("orgId", org_id)?;
    args.opt_text("projectId", project_id)?;
    args.text("metric", metric)?;
    args.text("unit", unit)?;
    args.text("period", period)?;
    args.number("limitQuantity", *limit_quantity)?;
    args.int("updatedAtMs", *updated_at_ms)?;
    args.number("usedQuantity", *used_quantity)?;
    args.number("remainingQuantity", *remaining_quantity)?;
    args.bool("exceeded", *exceeded)
}
const CHECK_ARGS: usize = 10;

/// A check of `consumeUsage`'s: the limit check's fields, then its window's and verdict.
fn consume_check_args(args: &mut impl Fields, check: &ConsumeCheck) -> Result<()> {
    let ConsumeCheck { check, since_ms, until_ms, later_quantity, allowed } = check;
    check_args(args, check)?;
    args.int("sinceMs", *since_ms)?;
    args.int("untilMs", *until_ms)?;
    args.number("laterQuantity", *later_quantity)?;
    args.bool("allowed", *allowed)
}
const CONSUME_CHECK_ARGS: usize = CHECK_ARGS + 4;

fn org_args(args: &mut impl Fields, org: &Org) -> Result<()> {
    let Org { org_id, slug, name, created_at_ms, status, suspended_at_ms, suspend_reason, deleted_at_ms } = org;
    args.text("orgId", org_id)?;
    args.text("slug", slug)?;
    args.text("name", name)?;
    args.int("createdAtMs", *created_at_ms)?;
    args.text("status", status)?;
    args.opt_int("suspendedAtMs", *suspended_at_ms)?;
    args.opt_text("suspendReason", suspend_reason)?;
    args.opt_int("deletedAtMs", *deleted_at_ms)
}

/// What `lib/results.js` builds each realm's factories from: the keys of each record in
/// its factory's order (`Keys`), and how the others hold them. `consumption(allowed,
/// ...event, ...checks)`: the event's arguments (its id `null` when there is none), then
/// each check's; `usageEvents(into, metadata, ...events)`: each event's but its metadata;
/// `usageIds(into, count, ...ids)`.
pub fn shapes() -> Result<Value> {
    fn keys(fill: impl FnOnce(&mut Keys) -> Result<()>) -> Result<Vec<String>> {
        let mut keys = Keys::default();
        fill(&mut keys)?;
        Ok(keys.0)
    }
    Ok(serde_json::json!({
        "usageEvent": keys(|k| event_args(k, &UsageEvent::default(), true))?,
        "usageLimitCheck": keys(|k| check_args(k, &UsageLimitCheck::default()))?,
        "consumeCheck": keys(|k| consume_check_args(k, &ConsumeCheck::default()))?,
        "org": keys(|k| org_args(k, &Org::default()))?,
        "consumption": ["allowed", "event", "checks"],
        "usageIds": ["count", "ids"],
    }))
}

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
    /// `consumption(allowed, ...event, ...checks)`: the event's arguments (its id `null`
    /// when there is none), then each check's.
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
            consume_check_args(&mut args, check)?;
        }
        args.call(factory)
    }
}

impl ToJs for Org {
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let Some(factory) = factory(env, Shape::Org)? else { return json(env, self) };
        let mut args = Args::new(env, 8);
        org_args(&mut args, self)?;
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
                        args.json_text(&metadata)?;
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
                        args.int("id", *id)?;
                    }
                    into = args.call(factory(env, Shape::UsageIds)?.expect("registered"))?;
                }
                Ok(into)
            }
        }
    }
}
