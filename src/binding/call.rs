//! One store operation called from JS, for both classes that have the org-level methods:
//! the store (`ControlPlaneStore`, the input as given) and the handle scoped to one org
//! (`OrgScope`, its org put in). Each class says how it reads an input (`Inputs`); the
//! operation is the core's typed function, and its result goes back as JSON text parsed in
//! the caller's realm (`env_data`), or, for the request path's methods, built there by its
//! factory (`results`).

use super::env_data::{parse_json, to_js};
use super::input::{self, Read};
use super::results::ToJs;
use super::async_call::{AsyncCall, Job};
use super::backend::Backend;
use control_plane_core::db::Db;
use control_plane_core::error::{CpError, Result as CoreResult};
use control_plane_core::request::{self, FromInput, RequestContext};
use control_plane_core::validate::{Field, Fields, Item};
use napi::bindgen_prelude::{AsyncTask, ToNapiValue, Undefined, Unknown};
use napi::{Env, JsValue, Result, ValueType};
use serde_json::Value;
use serde::Serialize;
use std::cell::Ref;

/// How a class reads a method's input and where it runs.
pub trait Inputs {
    fn backend(&self) -> Ref<'_, Backend>;
    /// The input object of a method, read from JS; `Given::Required` for the documented
    /// store's methods, whose missing input is an error rather than `{}`.
    fn input(&self, env: &Env, input: Option<Unknown>, given: Given) -> Result<Read>;
    /// An input as read made the method's input (the org-scoped handle puts its org in):
    /// the last step of `input`, for an input read another way (`gathered`).
    fn prepare(&self, env: &Env, read: Read) -> Result<Read>;
    /// `prepare`, for each event of a batch (`{events, returning}`).
    fn prepare_events(&self, env: &Env, events: &mut [Item]) -> Result<()>;
}

/// Whether a method's input may be left out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Given {
    /// The documented store's methods: a missing input is `input must be an object.`
    Required,
    /// Ours: a missing input reads as `{}`.
    Optional,
}

/// A core operation: `(&Db, &RequestContext, Request) -> Result<Output>`.
pub type Op<R, T> = fn(&Db, &RequestContext, R) -> CoreResult<T>;

/// Runs `op` on the method's input and returns its result.
pub fn value<'e, C: Inputs, R: FromInput, T: Serialize>(
    class: &C,
    env: &'e Env,
    input: Option<Unknown>,
    given: Given,
    op: Op<R, T>,
) -> Result<Unknown<'e>> {
    let input = class.input(env, input, given)?;
    run(class, env, &input, op)
}

/// Runs `op` on the method's input and returns its result built in the caller's realm
/// (`results`): the request path's methods.
pub fn built<'e, C: Inputs, R: FromInput, T: ToJs>(
    class: &C,
    env: &'e Env,
    input: Option<Unknown>,
    given: Given,
    op: Op<R, T>,
) -> Result<Unknown<'e>> {
    let input = class.input(env, input, given)?;
    run_built(class, env, &input, op)
}

/// `run`, for a result built in the caller's realm.
pub fn run_built<'e, C: Inputs, R: FromInput, T: ToJs>(class: &C, env: &'e Env, input: &Read, op: Op<R, T>) -> Result<Unknown<'e>> {
    let out = class.backend().run(env, |db| call(db, input, op)).map_err(|e| to_js(env, e))?;
    out.to_js(env)
}

/// The fields `(input, options?)` takes from its options into the input: never one the
/// scoped handle sets (`orgId`), so an option cannot move a call to another org.
pub const OPTIONS: [&str; 1] = ["requireBalance"];

/// The fields of `OPTIONS` an `options` argument gives (none when it is missing, `null` or
/// `undefined`); `options must be an object.` for anything else.
pub fn options(env: &Env, options: Option<Unknown>) -> Result<Vec<(&'static str, Value)>> {
    let Some(options) = options.filter(|o| !matches!(o.get_type(), Ok(ValueType::Undefined | ValueType::Null))) else {
        return Ok(Vec::new());
    };
    let Value::Object(mut options) = input::read(env, options).map_err(|e| to_js(env, e))? else {
        return Err(to_js(env, CpError::field("options", "options must be an object.")));
    };
    Ok(OPTIONS.iter().filter_map(|&name| options.remove(name).map(|value| (name, value))).collect())
}

/// `(input, options?)`: the input read (and scoped) as `built` reads it, then the
/// options' fields (`OPTIONS`) set on it.
pub fn with_options<'e, C: Inputs, R: FromInput, T: ToJs>(
    class: &C,
    env: &'e Env,
    input: Option<Unknown>,
    options: Option<Unknown>,
    given: Given,
    op: Op<R, T>,
) -> Result<Unknown<'e>> {
    let mut read = class.input(env, input, given)?;
    for (name, value) in self::options(env, options)? {
        match &mut read {
            Read::Fields(fields) => fields.set(name, Field::Json(value)),
            Read::Json(Value::Object(map)) => {
                map.insert(name.to_string(), value);
            }
            Read::Json(_) => {}
        }
    }
    run_built(class, env, &read, op)
}

/// `getOrg(orgId)` and `getOrgBySlug(slug)` take the value itself: `{field: value}`.
pub fn one_field(env: &Env, value: Option<Unknown>, field: &str) -> Result<Read> {
    let value = match value {
        Some(value) => value,
        None => Undefined::default().into_unknown(env)?,
    };
    let value = input::read_field(env, value, field).map_err(|e| to_js(env, e))?;
    Ok(serde_json::json!({ field: value }).into())
}

/// `recordUsageBatch(events, options?)`: `{events, returning}`, each event read as an input
/// of its own (and made the class's, `prepare_events`), then `op` run on it.
pub fn batch<'e, C: Inputs, R: FromInput, T: ToJs>(
    class: &C,
    env: &'e Env,
    events: Option<Unknown>,
    options: Option<Unknown>,
    op: Op<R, T>,
) -> Result<Unknown<'e>> {
    let Some(events) = events.filter(|events| events.is_array().unwrap_or(false)) else {
        return Err(to_js(env, CpError::field("events", "events must be an array.")));
    };
    let mut events = input::read_events(env, events).map_err(|e| to_js(env, e))?;
    class.prepare_events(env, &mut events)?;
    let returning = match options {
        Some(options) if options.get_type().ok() == Some(ValueType::Object) => {
            match input::read(env, options).map_err(|e| to_js(env, e))?.get("returning") {
                Some(Value::Null) | None => Value::from("events"),
                Some(value) => value.clone(),
            }
        }
        _ => Value::from("events"),
    };
    let mut fields = Fields::with_capacity(2);
    fields.push("events", Field::Inputs(events));
    fields.push("returning", Field::Json(returning));
    run_built(class, env, &Read::Fields(fields), op)
}

/// Runs `op` on the method's input, for a method that returns nothing.
pub fn void<C: Inputs, R: FromInput>(class: &C, env: &Env, input: Option<Unknown>, op: Op<R, ()>) -> Result<()> {
    let input = class.input(env, input, Given::Required)?;
    class.backend().run(env, |db| call(db, &input, op)).map_err(|e| to_js(env, e))
}

/// Runs `op` on an input already read (and scoped).
pub fn run<'e, C: Inputs, R: FromInput, T: Serialize>(class: &C, env: &'e Env, input: &Read, op: Op<R, T>) -> Result<Unknown<'e>> {
    let text = class.backend().run(env, |db| call(db, input, op).and_then(|out| json(&out))).map_err(|e| to_js(env, e))?;
    parse_json(env, &text)
}

/// Reads the request and runs the operation, as `request::call` does a JSON input.
fn call<R: FromInput, T>(db: &Db, input: &Read, op: Op<R, T>) -> CoreResult<T> {
    let (ctx, request) = request::read_input(&input.input()?)?;
    op(db, &ctx, request)
}

/// Runs `op` on the libuv thread pool, for a method that returns a promise: the request
/// is read here, on the JS thread, and runs where `Backend::task` says.
pub fn task<C: Inputs, R: FromInput + Clone + Send + 'static, T: Serialize + 'static>(
    class: &C,
    env: &Env,
    input: Option<Unknown>,
    op: Op<R, T>,
) -> Result<AsyncTask<AsyncCall>> {
    let input = class.input(env, input, Given::Required)?;
    let job = input.input().and_then(|input| request::read_input(&input)).map(|(ctx, request): (RequestContext, R)| -> Job {
        Box::new(move |db: &Db| op(db, &ctx, request.clone()).and_then(|out| json(&out)))
    });
    class.backend().task(env, job)
}

/// How the async store makes a call's work from its input (read and scoped): a table's
/// line offered on the async store (`declare`).
pub type Prepare = fn(&Value) -> CoreResult<Job>;

/// The work of `op` on an input object, its request read here (on the JS thread).
pub fn job<R: FromInput + Clone + Send + 'static, T: Serialize + 'static>(input: &Value, op: Op<R, T>) -> CoreResult<Job> {
    request::read(input).map(|(ctx, request): (RequestContext, R)| -> Job {
        // Run again, from its request, when its connection had died idle (`PostgresPool::run`).
        Box::new(move |db| op(db, &ctx, request.clone()).and_then(|out| json(&out)))
    })
}

/// A result as JSON text.
pub fn json<T: Serialize>(value: &T) -> CoreResult<String> {
    serde_json::to_string(value).map_err(|e| CpError::new("INTERNAL", format!("serialising a result: {e}"), None))
}
