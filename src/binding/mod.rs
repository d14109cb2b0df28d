//! The Node.js binding: napi-rs classes that read JS values into the core's inputs and
//! throw `ControlPlaneError`; no SQL here but the caller's own (`Database`).
//!
//! - `methods`: the operations, one table per concern, each line declaring one
//!   (`declare::operations!`): the methods of `store` (`ControlPlaneStore`, the class
//!   users construct, and `ensureControlPlaneTables`), of `scope` (`forOrg`'s handle) and
//!   of the async store come from it; `call` runs one.
//! - `database`: `Database` and `Statement`, a bun:sqlite-shaped handle on our connection.
//! - `host`: the engine that runs the core's statements on the caller's own SQLite handle.
//! - `connection`: a connection of ours (path form, `Database`), with its checkpoints;
//!   `open_path` opens one by path.
//! - `input`: JS values read into the core's inputs; `gathered`: the request path's
//!   methods with their input read by `lib/readers.js`; `results`: results built in the caller's
//!   realm; `env_data`: the error class, `JSON.parse` and the result factories, per Node
//!   environment; `probe`: the marshalling's pieces alone, for `bench/marshal.js`.
//! - `async_store`: the async store (`ControlPlaneStore.connect`), on PostgreSQL or SQLite;
//!   `transfer`: a move from a SQLite file to PostgreSQL, for `control-plane migrate`.

mod async_call;
mod async_store;
mod backend;
mod call;
mod connection;
mod database;
mod declare;
mod env_data;
mod gathered;
mod host;
mod input;
mod methods;
mod open_path;
mod probe;
mod results;
mod scope;
mod store;
mod transfer;
mod values;

use env_data::CallArgs;
use napi::bindgen_prelude::{Function, Object, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

/// `useRealm(ControlPlaneError, JSON.parse, factories)`: every load of `index.js` hands
/// over its realm's error class, `JSON.parse` and result factories; errors and results
/// are built in the last realm given (`env_data`).
#[napi(skip_typescript)]
pub fn use_realm(
    env: &Env,
    error_class: Function<CallArgs, Unknown<'static>>,
    json_parse: Function<CallArgs, Unknown<'static>>,
    factories: Object,
) -> Result<()> {
    env_data::use_realm(env, error_class, json_parse, factories)
}

/// `resultShapes()`: the JSON of the request path's result shapes, from which
/// `lib/results.js` builds each realm's factories (`results::shapes`).
#[napi(skip_typescript)]
pub fn result_shapes() -> String {
    results::shapes().to_string()
}

#[napi(module_exports)]
pub fn module_exports(env: Env, mut exports: Object) -> Result<()> {
    database::install_statement_methods(&env, &exports)?;
    gathered::install(&env, &mut exports)
}
