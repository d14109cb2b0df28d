//! The request path's methods with their input gathered by the caller's realm. Reading an
//! input object through napi costs a call per step (its keys, each key, each value, each
//! value's type); for the methods a gateway calls on every request, `lib/readers.js` reads the
//! object in JS instead, where that is cheap, and hands its fields over as arguments:
//! `call(input, ...values)`, `values[i]` being the input's own field `fields[i]`.
//!
//! It does so only where reading in JS cannot differ from reading through napi in
//! anything a caller could see: an object that is not a proxy, whose own enumerable keys
//! are all among the method's fields, each a data property (no getter runs: the values
//! are the properties' own), each string well-formed, and at most one value an object
//! (read here, strictly, as `input` reads any). A `metadata` that is itself a plain
//! object of such scalars (finite numbers, well-formed strings, booleans, nulls) comes
//! flattened too, its keys and values after the fields: `call(input, ...values, ...[key,
//! value]...)`. Any other input, the JS method hands to the napi-rs method as given
//! (`original`), which reads it as before; so does a call with a `this` that is not of
//! the method's class (`call` returns `undefined` for it).
//!
//! `install` puts the table on the addon's exports as `gathered`:
//! `[{ of, name, fields, call, original }]`.

use super::call::{self, Inputs, Op};
use super::env_data::to_js;
use super::input;
use super::results::ToJs;
use super::methods;
use control_plane_core::request::FromInput;
use napi::bindgen_prelude::{Array, ClassInstance, JsObjectValue, MaybeTypeTag, Object, ToNapiValue, Undefined, Unknown};
use napi::{sys, Env, JsValue, Result};

/// The request context every request reads (`RequestContext`), after the request's own fields.
const CONTEXT: [&str; 4] = ["actorId", "ipAddress", "userAgent", "requestId"];

/// Runs `op` on the fields of `args` (`[input, ...values]`) as `class`'s method.
fn run<'e, C: Inputs, R: FromInput, T: ToJs>(class: &C, env: &'e Env, fields: &[&str], args: &[Unknown], op: Op<R, T>) -> Result<Unknown<'e>> {
    let read = input::read_gathered(env, args[0], fields, &args[1..]).map_err(|e| to_js(env, e))?;
    let read = class.prepare(env, read)?;
    call::run_built(class, env, &read, op)
}

/// Adds to `table` the class's method `name`, with its `call` (a table's `gathered` line).
pub fn add<C, R, T>(env: &Env, exports: &Object, table: &mut Array, of: &'static str, name: &'static str, op: Op<R, T>) -> Result<()>
where
    C: Inputs + MaybeTypeTag + 'static,
    R: FromInput + 'static,
    T: ToJs + 'static,
{
    // The request's fields, then the context's: what `call` takes as its arguments.
    let fields: Vec<&'static str> = R::FIELDS.iter().chain(CONTEXT.iter()).copied().collect();
    let listed = fields.clone();
    let class: Object = exports.get_named_property_unchecked(of)?;
    let prototype: Object = class.get_named_property_unchecked("prototype")?;
    let original: Unknown = prototype.get_named_property_unchecked(name)?;
    // The closure hands its result back as the raw value napi-rs returns to JS: an
    // `Unknown` cannot outlive the call's `Env` borrow in the closure's return type.
    let call = env.create_function_from_closure::<(), sys::napi_value, _>(name, move |ctx| {
        let env: &Env = ctx.env;
        let args = ctx.arguments::<Unknown>()?;
        match ctx.this::<ClassInstance<C>>() {
            Ok(this) if !args.is_empty() => run(&*this, env, &fields, &args, op).map(|out| out.raw()),
            // Not this class's: the method itself is called instead, and says so.
            _ => Undefined::default().into_unknown(env).map(|u| u.raw()),
        }
    })?;
    let mut entry = Object::new(env)?;
    entry.set_named_property("of", of)?;
    entry.set_named_property("name", name)?;
    entry.set_named_property("fields", listed)?;
    entry.set_named_property("call", call)?;
    entry.set_named_property("original", original)?;
    table.insert(entry)
}

/// Puts `gathered` on the addon's exports: the tables' `gathered` lines.
pub fn install(env: &Env, exports: &mut Object) -> Result<()> {
    let mut table = env.create_array(0)?;
    methods::gathered(env, exports, &mut table)?;
    exports.set_named_property("gathered", table)
}
