//! What the addon keeps per Node environment (the main thread and each worker thread):
//! the `ControlPlaneError` class handed over once by `index.js`, and `JSON.parse`, which
//! turns a result's JSON text into JS values (as fast here as building them one by one).

use crate::core::error::CpError;
use napi::bindgen_prelude::{Function, FunctionRef, Unknown};
use napi::{sys, Env, Error, JsValue, Result, Status};
use std::ptr;

struct PerEnv {
    error_class: FunctionRef<(), Unknown<'static>>,
    json_parse: FunctionRef<(), Unknown<'static>>,
}

fn json_parse_of(env: &Env) -> Result<Function<'_, (), Unknown<'static>>> {
    let raw = env.raw();
    let mut global = ptr::null_mut();
    let mut json = ptr::null_mut();
    let mut parse = ptr::null_mut();
    unsafe {
        sys::napi_get_global(raw, &mut global);
        sys::napi_get_named_property(raw, global, c"JSON".as_ptr(), &mut json);
        sys::napi_get_named_property(raw, json, c"parse".as_ptr(), &mut parse);
        napi::bindgen_prelude::FromNapiValue::from_napi_value(raw, parse)
    }
}

/// `errorClass(ControlPlaneError)`: called when `index.js` loads. The first class given
/// in an environment stays its error class, and is returned to every later load, so that
/// two copies of `index.js` in one environment (a test runner's module registry beside
/// Node's) export the one class their errors are instances of.
pub fn error_class<'e>(env: &'e Env, class: Function<'e, (), Unknown<'static>>) -> Result<Function<'e, (), Unknown<'static>>> {
    if let Some(data) = per_env(env) {
        return data.error_class.borrow_back(env);
    }
    let data = PerEnv { error_class: class.create_ref()?, json_parse: json_parse_of(env)?.create_ref()? };
    env.set_instance_data(data, (), |_| {})?;
    Ok(class)
}

fn per_env(env: &Env) -> Option<&'static mut PerEnv> {
    env.get_instance_data::<PerEnv>().ok().flatten()
}

/// Parses JSON text into a JS value.
pub fn parse_json<'e>(env: &'e Env, text: &str) -> Result<Unknown<'e>> {
    let raw = env.raw();
    let parse = match per_env(env) {
        Some(data) => data.json_parse.borrow_back(env)?.raw(),
        None => json_parse_of(env)?.raw(),
    };
    let arg = unsafe { napi::bindgen_prelude::ToNapiValue::to_napi_value(raw, text)? };
    let mut out = ptr::null_mut();
    let mut undefined = ptr::null_mut();
    let status = unsafe {
        sys::napi_get_undefined(raw, &mut undefined);
        sys::napi_call_function(raw, undefined, parse, 1, &arg, &mut out)
    };
    if status != sys::Status::napi_ok {
        return Err(Error::new(Status::GenericFailure, "JSON.parse of a result failed"));
    }
    Ok(unsafe { Unknown::from_raw_unchecked(raw, out) })
}

/// The error thrown to JS: a `ControlPlaneError` with `code`, `summary` (also `message`)
/// and `details`. Before `index.js` registered the class (the addon loaded alone), a plain
/// `Error` with the same fields.
pub fn to_js(env: &Env, err: CpError) -> Error {
    build(env, &err).unwrap_or_else(|e| e)
}

fn build(env: &Env, err: &CpError) -> Result<Error> {
    let raw = env.raw();
    let details = match &err.details {
        Some(details) => parse_json(env, &details.to_string())?.raw(),
        None => unsafe { napi::bindgen_prelude::ToNapiValue::to_napi_value(raw, ())? },
    };
    let args = unsafe {
        [
            napi::bindgen_prelude::ToNapiValue::to_napi_value(raw, err.code)?,
            napi::bindgen_prelude::ToNapiValue::to_napi_value(raw, err.summary.as_str())?,
            details,
        ]
    };
    let mut instance = ptr::null_mut();
    match per_env(env) {
        Some(data) => {
            let class = data.error_class.borrow_back(env)?.raw();
            let status = unsafe { sys::napi_new_instance(raw, class, 3, args.as_ptr(), &mut instance) };
            if status != sys::Status::napi_ok {
                return Err(Error::new(Status::GenericFailure, format!("{}: {}", err.code, err.summary)));
            }
        }
        None => unsafe {
            sys::napi_create_error(raw, ptr::null_mut(), args[1], &mut instance);
            for (name, value) in [(c"code", args[0]), (c"summary", args[1]), (c"details", args[2])] {
                sys::napi_set_named_property(raw, instance, name.as_ptr(), value);
            }
        },
    }
    Ok(Error::from(unsafe { Unknown::from_raw_unchecked(raw, instance) }))
}
