//! What the addon keeps per Node environment (the main thread and each worker thread):
//! the realm that loaded `index.js` last, as its `ControlPlaneError` class, its
//! `JSON.parse` and its result factories (`results`: one function per result shape of the
//! request path, which builds that result from its fields). Errors are built from that
//! class and results by those factories or that `JSON.parse`, so they belong to that realm:
//! an instance of its `Error`, its `Object`, its `Array`.
//!
//! Why the last one: a test runner that gives each test file its own realm (Jest's VM
//! contexts, Vitest's vm pools) loads `index.js` again in every file but loads the addon
//! once per process, and it runs one file at a time in a process. Keeping only the last
//! realm also lets a finished file's realm be collected. Two copies of `index.js` alive in
//! one realm (a runner's module registry beside Node's) each export their own class; the
//! class's `Symbol.hasInstance` brand makes `instanceof` hold for either.

use control_plane_core::error::CpError;
use napi::bindgen_prelude::{
    Function, FunctionRef, JsObjectValue, JsValuesTupleIntoVec, Object, ObjectRef, ToNapiValue, Unknown,
};
use napi::{sys, Env, Error, JsValue, Result, Status};
use std::ptr;

/// The shapes built by a factory of the realm, by the name `lib/results.js` gives each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    UsageEvent,
    UsageLimitCheck,
    Consumption,
    Org,
    UsageEvents,
    UsageIds,
}

impl Shape {
    pub const ALL: [Shape; 6] =
        [Shape::UsageEvent, Shape::UsageLimitCheck, Shape::Consumption, Shape::Org, Shape::UsageEvents, Shape::UsageIds];

    pub fn name(self) -> &'static str {
        match self {
            Shape::UsageEvent => "usageEvent",
            Shape::UsageLimitCheck => "usageLimitCheck",
            Shape::Consumption => "consumption",
            Shape::Org => "org",
            Shape::UsageEvents => "usageEvents",
            Shape::UsageIds => "usageIds",
        }
    }
}

/// Takes the exception a call into JS left pending (a getter or a method of the caller's
/// threw) off the environment, so the next call runs, and returns the thrown value
/// (`undefined` if none was pending). napi-rs has no safe API for this: `Function::apply`
/// and its property reads leave the exception pending and report `Status::PendingException`.
pub fn take_exception(env: &Env) -> Unknown<'_> {
    let mut thrown = ptr::null_mut();
    // SAFETY: every caller passes the `Env` of the napi call it is serving, on that call's
    // JS thread, and `thrown` is a local out-pointer. Node writes a handle of the current
    // scope there, so the `Unknown` (which borrows `env`) holds a live value; should the
    // call fail, `thrown` stays null, which every napi function refuses as an invalid
    // argument (it is never dereferenced).
    unsafe {
        sys::napi_get_and_clear_last_exception(env.raw(), &mut thrown);
        Unknown::from_raw_unchecked(env.raw(), thrown)
    }
}

/// The arguments of a call into JS, any number of them (napi-rs's `Function::apply` and
/// `new_instance` take one value or a tuple of fixed length): values of the call's env,
/// only ever made from `Unknown`s.
#[derive(Default)]
pub struct CallArgs(Vec<sys::napi_value>);

impl CallArgs {
    pub fn with_capacity(capacity: usize) -> Self {
        CallArgs(Vec::with_capacity(capacity))
    }

    pub fn push(&mut self, value: Unknown) {
        self.0.push(value.raw());
    }
}

impl<const N: usize> From<[Unknown<'_>; N]> for CallArgs {
    fn from(values: [Unknown<'_>; N]) -> Self {
        CallArgs(values.iter().map(|v| v.raw()).collect())
    }
}

impl JsValuesTupleIntoVec for CallArgs {
    fn into_vec(self, _env: sys::napi_env) -> Result<Vec<sys::napi_value>> {
        Ok(self.0)
    }
}

/// A function of JS called with `CallArgs`.
pub type JsFunction<'e> = Function<'e, CallArgs, Unknown<'e>>;

#[derive(Default)]
struct PerEnv {
    realm: Option<Realm>,
    /// The last error the caller's handle threw, kept under its token until an error of
    /// ours that names it is thrown (as its `cause`) or the next one replaces it. One the
    /// core turned into an error of its own (a unique constraint into `DUPLICATE_ID`) may
    /// stay until the environment ends, which takes the reference with it: no leak report.
    thrown: Option<(u64, ObjectRef<false>)>,
    tokens: u64,
}

struct Realm {
    error_class: FunctionRef<CallArgs, Unknown<'static>>,
    json_parse: FunctionRef<CallArgs, Unknown<'static>>,
    /// The factory of each shape, in `Shape`'s order.
    factories: Vec<FunctionRef<CallArgs, Unknown<'static>>>,
}

/// `useRealm(ControlPlaneError, JSON.parse, factories)`: called by every load of
/// `index.js`; `factories` has a function for each of `Shape::ALL`, by its name.
pub fn use_realm(
    env: &Env,
    error_class: Function<CallArgs, Unknown<'static>>,
    json_parse: Function<CallArgs, Unknown<'static>>,
    factories: Object,
) -> Result<()> {
    let factories = Shape::ALL
        .iter()
        .map(|shape| {
            let factory: Function<CallArgs, Unknown<'static>> = factories.get_named_property_unchecked(shape.name())?;
            factory.create_ref()
        })
        .collect::<Result<Vec<_>>>()?;
    // Replacing the old references releases them, and with them the old realm.
    per_env(env)?.realm = Some(Realm { error_class: error_class.create_ref()?, json_parse: json_parse.create_ref()?, factories });
    Ok(())
}

/// The realm's factory of that shape; `None` before `index.js` registered a realm.
pub fn factory(env: &Env, shape: Shape) -> Result<Option<JsFunction<'_>>> {
    match realm_of(env) {
        Some(realm) => realm.factories[shape as usize].borrow_back(env).map(Some),
        None => Ok(None),
    }
}

fn per_env(env: &Env) -> Result<&'static mut PerEnv> {
    if env.get_instance_data::<PerEnv>()?.is_none() {
        env.set_instance_data(PerEnv::default(), (), |_| {})?;
    }
    env.get_instance_data::<PerEnv>()?.ok_or_else(|| Error::new(Status::GenericFailure, "no per-environment data"))
}

fn realm_of(env: &Env) -> Option<&'static Realm> {
    env.get_instance_data::<PerEnv>().ok().flatten().and_then(|data| data.realm.as_ref())
}

/// Keeps an error the caller's handle threw; the token goes on our error
/// (`CpError::cause`), which then carries it as its `cause`.
pub fn keep_thrown(env: &Env, thrown: &Object) -> Option<u64> {
    let data = per_env(env).ok()?;
    let kept = thrown.create_ref::<false>().ok()?;
    data.tokens += 1;
    if let Some((_, old)) = data.thrown.replace((data.tokens, kept)) {
        let _ = old.unref(env);
    }
    Some(data.tokens)
}

/// The kept error of that token, let go of.
fn take_thrown(env: &Env, token: u64) -> Option<Object<'_>> {
    let data = env.get_instance_data::<PerEnv>().ok().flatten()?;
    if data.thrown.as_ref().map(|(t, _)| *t) != Some(token) {
        return None;
    }
    let (_, kept) = data.thrown.take()?;
    let value = kept.get_value(env).ok();
    let _ = kept.unref(env);
    value
}

fn parse_failed() -> Error {
    Error::new(Status::GenericFailure, "JSON.parse of a result failed")
}

/// `JSON.parse` of the realm, or of the addon's own global before `index.js` registered.
fn json_parse(env: &Env) -> Result<JsFunction<'_>> {
    if let Some(realm) = realm_of(env) {
        return realm.json_parse.borrow_back(env);
    }
    let json: Object = env.get_global()?.get_named_property_unchecked("JSON").map_err(|_| parse_failed())?;
    json.get_named_property_unchecked("parse").map_err(|_| parse_failed())
}

/// Parses JSON text into a JS value of the realm.
pub fn parse_json<'e>(env: &'e Env, text: &str) -> Result<Unknown<'e>> {
    let parse = json_parse(env)?;
    let arg = text.into_unknown(env)?;
    // `apply` leaves what `JSON.parse` threw pending, to be thrown in place of our error.
    parse.apply((), CallArgs::from([arg])).map_err(|_| parse_failed())
}

/// The error thrown to JS: a `ControlPlaneError` of the realm with `code`, `summary`
/// (also `message`), `details` and `docsUrl`. Before `index.js` registered a realm (the
/// addon loaded alone), a plain `Error` with `code`, `summary` and `details`.
pub fn to_js(env: &Env, err: CpError) -> Error {
    build(env, &err).unwrap_or_else(|e| e)
}

fn build(env: &Env, err: &CpError) -> Result<Error> {
    let details = match &err.details {
        Some(details) => parse_json(env, &details.to_string())?,
        None => ().into_unknown(env)?,
    };
    let code = err.code.into_unknown(env)?;
    let summary = err.summary.as_str().into_unknown(env)?;
    let mut args = CallArgs::from([code, summary, details]);
    if let Some(cause) = err.cause.and_then(|token| take_thrown(env, token)) {
        let mut options = Object::new(env)?;
        options.set_named_property("cause", cause)?;
        args.push(options.to_unknown());
    }
    let instance = match realm_of(env) {
        Some(realm) => {
            let class = realm.error_class.borrow_back(env)?;
            class
                .new_instance(args)
                .map_err(|_| Error::new(Status::GenericFailure, format!("{}: {}", err.code, err.summary)))?
        }
        None => {
            let mut instance = env.create_error(Error::new(Status::GenericFailure, err.summary.as_str()))?;
            for (name, value) in [(c"code", code), (c"summary", summary), (c"details", details)] {
                instance.set_c_named_property(name, value)?;
            }
            instance.to_unknown()
        }
    };
    Ok(Error::from(instance))
}
