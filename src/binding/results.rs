//! Results as values of the caller's realm. A result goes back one of two ways: as JSON
//! text parsed by the realm's `JSON.parse` (any result: `json`), or built by the realm's
//! factory for its shape, a function `lib/results.js` defines in every realm that takes the
//! result's fields as arguments (`Shape`; for the results of the request path). Either
//! way every object and array is the realm's, and the result is the same: the keys and
//! their order serde's JSON has (a field serde skips is `undefined` to the factory, which
//! leaves the key out), numbers as JSON has them (a non-finite one is `null`), `metadata`
//! a fresh object parsed from its JSON text. Which way each shape goes is measured
//! (`bench/marshal.js`, docs/performance.md).
//!
//! The order of a factory's arguments is the core's (`record`): each field is handed over
//! with its key (`Args` is a `record::Fields`), and `shapes()` hands `lib/results.js` the
//! keys (`resultShapes()`), from which it builds each realm's factories.

use super::env_data::{factory, parse_json, CallArgs, JsFunction, Shape};
use control_plane_core::record::{self, Fields, Record};
use control_plane_core::metering::limits::{ConsumeCheck, Consumption, UsageLimitCheck};
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
    /// A batch's events: their metadata go apart, as one JSON array (`usageEvents`).
    metadata_apart: bool,
}

impl<'e> Args<'e> {
    fn new(env: &'e Env, capacity: usize) -> Self {
        Args { env, args: CallArgs::with_capacity(capacity), metadata_apart: false }
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
    type Error = Error;

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
        if self.metadata_apart {
            return Ok(());
        }
        self.json_text(value)
    }
}

/// What `lib/results.js` builds each realm's factories from: the keys of each record in
/// its factory's order (`record::keys`), and how the others hold them. `consumption(allowed,
/// ...event, ...checks)`: the event's arguments (its id `null` when there is none), then
/// each check's; `usageEvents(into, metadata, ...events)`: each event's but its metadata;
/// `usageIds(into, count, ...ids)`.
pub fn shapes() -> Value {
    serde_json::json!({
        "usageEvent": record::keys::<UsageEvent>(),
        "usageLimitCheck": record::keys::<UsageLimitCheck>(),
        "consumeCheck": record::keys::<ConsumeCheck>(),
        "org": record::keys::<Org>(),
        "consumption": ["allowed", "event", "checks"],
        "usageIds": ["count", "ids"],
    })
}

impl ToJs for UsageEvent {
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let Some(factory) = factory(env, Shape::UsageEvent)? else { return json(env, self) };
        let mut args = Args::new(env, record::count::<UsageEvent>());
        self.fields(&mut args)?;
        args.call(factory)
    }
}

impl ToJs for Option<UsageLimitCheck> {
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let Some(check) = self else { return Null.into_unknown(env) };
        let Some(factory) = factory(env, Shape::UsageLimitCheck)? else { return json(env, self) };
        let mut args = Args::new(env, record::count::<UsageLimitCheck>());
        check.fields(&mut args)?;
        args.call(factory)
    }
}

impl ToJs for Consumption {
    /// `consumption(allowed, ...event, ...checks)`: the event's arguments (its id `null`
    /// when there is none), then each check's.
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        // Weighed against a balance too: built from its JSON (the factory's fields are
        // the request path's without a balance).
        if self.balance.is_some() {
            return json(env, self);
        }
        let Some(factory) = factory(env, Shape::Consumption)? else { return json(env, self) };
        let Consumption { allowed, event, checks, balance: _ } = self;
        let event_args = record::count::<UsageEvent>();
        let mut args = Args::new(env, 1 + event_args + record::count::<ConsumeCheck>() * checks.len());
        args.push(*allowed)?;
        match event {
            Some(event) => event.fields(&mut args)?,
            None => {
                args.push(Null)?;
                for _ in 1..event_args {
                    args.push(Undefined::default())?;
                }
            }
        }
        for check in checks {
            check.fields(&mut args)?;
        }
        args.call(factory)
    }
}

impl ToJs for Org {
    fn to_js<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        let Some(factory) = factory(env, Shape::Org)? else { return json(env, self) };
        let mut args = Args::new(env, record::count::<Org>());
        self.fields(&mut args)?;
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
                    let mut args = Args::new(env, 2 + (record::count::<UsageEvent>() - 1) * slice.len());
                    args.metadata_apart = true;
                    args.args.push(into);
                    if slice.iter().all(|event| event.metadata.as_object().is_some_and(|m| m.is_empty())) {
                        args.push(Undefined::default())?;
                    } else {
                        let metadata: Vec<&Value> = slice.iter().map(|event| &event.metadata).collect();
                        args.json_text(&metadata)?;
                    }
                    for event in slice {
                        event.fields(&mut args)?;
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
