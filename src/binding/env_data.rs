//! What the addon keeps per Node environment (the main thread and each worker thread):
//! the realm that loaded `index.js` last, as its `ControlPlaneError` class and its
//! `JSON.parse`. Errors are built from that class and results parsed by that `JSON.parse`,
//! so they belong to that realm: an instance of its `Error`, its `Object`, its `Array`.
//!
//! Why the last one: a test runner that gives each test file its own realm (Jest's VM
//! contexts, Vitest's vm pools) loads `index.js` again in every file but loads the addon
//! once per process, and it runs one file at a time in a process. Keeping only the last
//! realm also lets a finished file's realm be collected. Two copies of `index.js` alive in
//! one realm (a runner's module registry beside Node's) each export their own class; the
//! class's `Symbol.hasInstance` brand makes `instanceof` hold for either.

use control_plane_core::error::CpError;
use napi::bindgen_prelude::{Function, FunctionRef, JsObjectValue, Object, ObjectRef, ToNapiValue, Unknown};
use napi::{sys, Env, Error, JsValue, Result, Status};
use std::ptr;

#[derive(Default)]
struct PerEnv {
    realm: Option<Realm>,
    /// The last error the caller's handle threw, kept under its token until an error of
    /// ours that names it is thrown (as its `cause`) or the next one replaces it.
    thrown: Option<(u64, ObjectRef)>,
    tokens: u64,
}

struct Realm {
    error_class: FunctionRef<(), Unknown<'static>>,
    json_parse: FunctionRef<(), Unknown<'static>>,
}

/// `useRealm(ControlPlaneError, JSON.parse)`: called by every load of `index.js`.
pub fn use_realm(env: &Env, error_class: Function<(), Unknown<'static>>, json_parse: Function<(), Unknown<'static>>) -> Result<()> {
    // Replacing the old references releases them, and with them the old realm.
    per_env(env)?.realm = Some(Realm { error_class: error_class.create_ref()?, json_parse: json_parse.create_ref()? });
    Ok(())
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
    let kept = thrown.create_ref().ok()?;
    data.tokens += 1;
    if let Some((_, old)) = data.thrown.replace((data.tokens, kept)) {
        let _ = old.unref(env);
    }
    Some(data.tokens)
}

/// The kept error of that token, let go of.
fn take_thrown(env: &Env, token: u64) -> Option<sys::napi_value> {
    let data = env.get_instance_data::<PerEnv>().ok().flatten()?;
    if data.thrown.as_ref().map(|(t, _)| *t) != Some(token) {
        return None;
    }
    let (_, kept) = data.thrown.take()?;
    let value = kept.get_value(env).ok().map(|v| v.raw());
    let _ = kept.unref(env);
    value
}

/// `JSON.parse` of the realm, or of the addon's own global before `index.js` registered.
fn json_parse(env: &Env) -> Result<sys::napi_value> {
    if let Some(realm) = realm_of(env) {
        return Ok(realm.json_parse.borrow_back(env)?.raw());
    }
    let raw = env.raw();
    let (mut global, mut json, mut parse) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: `raw` is the live env of this call; every out-pointer is a local.
    unsafe {
        sys::napi_get_global(raw, &mut global);
        sys::napi_get_named_property(raw, global, c"JSON".as_ptr(), &mut json);
        sys::napi_get_named_property(raw, json, c"parse".as_ptr(), &mut parse);
    }
    Ok(parse)
}

/// Parses JSON text into a JS value of the realm.
pub fn parse_json<'e>(env: &'e Env, text: &str) -> Result<Unknown<'e>> {
    let raw = env.raw();
    let parse = json_parse(env)?;
    // SAFETY: `raw` is the live env of this call; `parse` is a function value of it, and
    // the argument and result are napi values of the same env.
    unsafe {
        let arg = <&str>::to_napi_value(raw, text)?;
        let (mut undefined, mut out) = (ptr::null_mut(), ptr::null_mut());
        sys::napi_get_undefined(raw, &mut undefined);
        if sys::napi_call_function(raw, undefined, parse, 1, &arg, &mut out) != sys::Status::napi_ok {
            return Err(Error::new(Status::GenericFailure, "JSON.parse of a result failed"));
        }
        Ok(Unknown::from_raw_unchecked(raw, out))
    }
}

/// The error thrown to JS: a `ControlPlaneError` of the realm with `code`, `summary`
/// (also `message`), `details` and `docsUrl`. Before `index.js` registered a realm (the
/// addon loaded alone), a plain `Error` with `code`, `summary` and `details`.
pub fn to_js(env: &Env, err: CpError) -> Error {
    build(env, &err).unwrap_or_else(|e| e)
}

fn build(env: &Env, err: &CpError) -> Result<Error> {
    let raw = env.raw();
    let details = match &err.details {
        Some(details) => parse_json(env, &details.to_string())?.raw(),
        // SAFETY: `raw` is the live env of this call.
        None => unsafe { <()>::to_napi_value(raw, ())? },
    };
    // SAFETY: `raw` is the live env of this call; the values are created in it.
    let mut args = unsafe { vec![<&str>::to_napi_value(raw, err.code)?, <&str>::to_napi_value(raw, err.summary.as_str())?, details] };
    if let Some(cause) = err.cause.and_then(|token| take_thrown(env, token)) {
        let mut options = Object::new(env)?;
        // SAFETY: `cause` is a live value of this env, just read from its reference.
        options.set_named_property("cause", unsafe { Unknown::from_raw_unchecked(raw, cause) })?;
        args.push(options.raw());
    }
    let mut instance = ptr::null_mut();
    match realm_of(env) {
        Some(realm) => {
            let class = realm.error_class.borrow_back(env)?.raw();
            // SAFETY: `class` is a constructor of this env, `args` its live values.
            let status = unsafe { sys::napi_new_instance(raw, class, args.len(), args.as_ptr(), &mut instance) };
            if status != sys::Status::napi_ok {
                return Err(Error::new(Status::GenericFailure, format!("{}: {}", err.code, err.summary)));
            }
        }
        // SAFETY: `raw` is the live env of this call; `instance` and `args` are its values.
        None => unsafe {
            sys::napi_create_error(raw, ptr::null_mut(), args[1], &mut instance);
            for (name, value) in [(c"code", args[0]), (c"summary", args[1]), (c"details", args[2])] {
                sys::napi_set_named_property(raw, instance, name.as_ptr(), value);
            }
        },
    }
    // SAFETY: `instance` was just created in this env.
    Ok(Error::from(unsafe { Unknown::from_raw_unchecked(raw, instance) }))
}
