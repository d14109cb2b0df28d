//! `marshalProbe(what, input, n)`: the pieces of a call's marshalling alone, `n` times, for
//! `bench/marshal.js` and the results test (not part of the API: no types, not exported by
//! `index.js`).
//!
//! - `readUsage`, `readCheck`: a usage event's (`NewUsage`) and a limit check's input read into
//!   their typed requests, in one pass (`input::read_input`); with `:json`, the way before
//!   it: the whole object read into a JSON value, the request read from that.
//! - `shapes`: the names of the result shapes below.
//! - `json:<shape>`, `factory:<shape>`: a result of that shape handed back as JSON text
//!   parsed by the realm's `JSON.parse`, or built by the realm's factory.
//! - `samples:<shape>:json`, `samples:<shape>:factory`: that shape's samples (edge values
//!   included), each handed back that way, once.

use super::env_data::to_js;
use super::input::{self, Read};
use super::results::{json, ToJs};
use control_plane_core::error::Result as CoreResult;
use control_plane_core::metering::limits::{CheckUsageLimit, ConsumeCheck, Consumption, UsageLimit, UsageLimitCheck};
use control_plane_core::metering::usage::{NewUsage, UsageBatch, UsageEvent, UsageIds};
use control_plane_core::request::{self, FromInput, RequestContext};
use control_plane_core::tenancy::orgs::Org;
use napi::bindgen_prelude::Unknown;
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use serde_json::json as value;

fn typed<R: FromInput>(env: &Env, input: Unknown, whole: bool) -> CoreResult<(RequestContext, R)> {
    if whole {
        request::read(&input::read(env, input)?)
    } else {
        let read: Read = input::read_input(env, input)?;
        request::read_input(&read.input()?)
    }
}

fn event(id: i64, key: Option<&str>) -> UsageEvent {
    UsageEvent {
        id,
        org_id: "acme".into(),
        project_id: Some("web".into()),
        run_id: None,
        metric: "tokens".into(),
        quantity: 12.0,
        unit: "count".into(),
        observed_at_ms: 1_700_000_000_000 + id,
        metadata: value!({ "model": "small" }),
        idempotency_key: key.map(str::to_string),
        duplicate: key.map(|_| false),
        // A field added to the core's result: its default here.
        ..Default::default()
    }
}

fn limit_check(project: Option<&str>, used: f64) -> UsageLimitCheck {
    UsageLimitCheck {
        limit: UsageLimit {
            org_id: "acme".into(),
            project_id: project.map(str::to_string),
            metric: "tokens".into(),
            unit: "count".into(),
            period: "monthly".into(),
            limit_quantity: 1_000.0,
            updated_at_ms: 3_000,
            ..Default::default()
        },
        used_quantity: used,
        remaining_quantity: (1_000.0 - used).max(0.0),
        exceeded: used > 1_000.0,
        ..Default::default()
    }
}

fn consume_check(project: Option<&str>) -> ConsumeCheck {
    ConsumeCheck { check: limit_check(project, 40.0), since_ms: 1_697_408_000_000, until_ms: 1_700_000_000_000, later_quantity: 0.0, allowed: true, ..Default::default() }
}

fn org(deleted: bool) -> Org {
    Org {
        org_id: "acme".into(),
        slug: "acme".into(),
        name: "Acme".into(),
        created_at_ms: 1_000,
        status: if deleted { "deleted".into() } else { "active".into() },
        suspended_at_ms: deleted.then_some(2_000),
        suspend_reason: deleted.then(|| "unpaid".into()),
        deleted_at_ms: deleted.then_some(3_000),
        ..Default::default()
    }
}

/// A shape's timed result (the first) and its samples, edge values included.
enum Samples {
    UsageEvent(Vec<UsageEvent>),
    UsageLimitCheck(Vec<Option<UsageLimitCheck>>),
    Consumption(Vec<Consumption>),
    Org(Vec<Org>),
    UsageBatch(Vec<UsageBatch>),
}

const SHAPES: [&str; 6] = ["usageEvent", "usageLimitCheck", "consumption", "org", "usageEvents", "usageIds"];

fn samples(shape: &str) -> Option<Samples> {
    let mut odd = event(9_007_199_254_740_993, Some("k\"\\\n\u{2028}😀é"));
    odd.quantity = -0.0;
    odd.metadata = value!({ "__proto__": { "x": [1, 2.5, -0.0, 1e300, null, true, "\u{0}"] }, "": {}, "a": [] });
    odd.duplicate = Some(true);
    let mut unkeyed_duplicate = event(7, None);
    unkeyed_duplicate.duplicate = Some(true);
    Some(match shape {
        "usageEvent" => Samples::UsageEvent(vec![event(12_345, None), event(2, Some("key-1")), odd.clone(), unkeyed_duplicate]),
        "usageLimitCheck" => Samples::UsageLimitCheck(vec![
            Some(limit_check(Some("web"), 40.0)),
            None,
            Some(limit_check(None, f64::INFINITY)),
            Some(limit_check(None, f64::NAN)),
            Some(limit_check(None, 1e21)),
        ]),
        "consumption" => Samples::Consumption(vec![
            Consumption { allowed: true, event: Some(event(12_345, None)), checks: vec![consume_check(Some("web")), consume_check(None)], balance: None },
            Consumption { allowed: false, event: None, checks: vec![consume_check(None)], balance: None },
            Consumption { allowed: true, event: Some(odd), checks: vec![], balance: None },
        ]),
        "org" => Samples::Org(vec![org(false), org(true)]),
        "usageEvents" => Samples::UsageBatch(vec![
            UsageBatch::Events((0..100).map(|i| event(i, (i % 10 == 0).then_some("k"))).collect()),
            UsageBatch::Events(vec![]),
            UsageBatch::Events((0..150).map(|i| event(i, None)).collect()),
        ]),
        "usageIds" => Samples::UsageBatch(vec![
            UsageBatch::Ids(UsageIds { count: 1_000, ids: (1..=1_000).collect() }),
            UsageBatch::Ids(UsageIds { count: 0, ids: vec![] }),
            UsageBatch::Ids(UsageIds { count: 2_500, ids: (1..=2_500).collect() }),
        ]),
        _ => return None,
    })
}

fn hand_back<'e, T: ToJs>(env: &'e Env, value: &T, factory: bool) -> Result<Unknown<'e>> {
    if factory {
        value.to_js(env)
    } else {
        json(env, value)
    }
}

/// Each sample handed back (all of them, or the first `n` times).
fn each<'e, T: ToJs>(env: &'e Env, values: &[T], factory: bool, n: Option<u32>) -> Result<Vec<Unknown<'e>>> {
    match n {
        Some(n) => {
            for _ in 0..n {
                hand_back(env, &values[0], factory)?;
            }
            Ok(Vec::new())
        }
        None => values.iter().map(|v| hand_back(env, v, factory)).collect(),
    }
}

fn results<'e>(env: &'e Env, shape: &str, factory: bool, n: Option<u32>) -> Result<Vec<Unknown<'e>>> {
    match samples(shape).ok_or_else(|| Error::new(Status::InvalidArg, format!("no shape {shape}")))? {
        Samples::UsageEvent(v) => each(env, &v, factory, n),
        Samples::UsageLimitCheck(v) => each(env, &v, factory, n),
        Samples::Consumption(v) => each(env, &v, factory, n),
        Samples::Org(v) => each(env, &v, factory, n),
        Samples::UsageBatch(v) => each(env, &v, factory, n),
    }
}

#[napi(skip_typescript)]
pub fn marshal_probe<'e>(env: &'e Env, what: String, input: Unknown, n: u32) -> Result<Vec<Unknown<'e>>> {
    let parts: Vec<&str> = what.split(':').collect();
    match parts.as_slice() {
        ["shapes"] => SHAPES.iter().map(|name| napi::bindgen_prelude::ToNapiValue::into_unknown(*name, env)).collect(),
        [way @ ("json" | "factory"), shape] => results(env, shape, *way == "factory", Some(n)),
        ["samples", shape, way @ ("json" | "factory")] => results(env, shape, *way == "factory", None),
        [piece @ ("readUsage" | "readCheck"), rest @ ..] => {
            let whole = rest == ["json"];
            for _ in 0..n {
                match *piece {
                    "readUsage" => typed::<NewUsage>(env, input, whole).map(drop),
                    _ => typed::<CheckUsageLimit>(env, input, whole).map(drop),
                }
                .map_err(|e| to_js(env, e))?;
            }
            Ok(Vec::new())
        }
        _ => Err(Error::new(Status::InvalidArg, format!("no probe {what}"))),
    }
}
