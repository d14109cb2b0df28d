//! The Node.js binding: napi-rs classes that read JS values into the core's inputs and
//! throw `ControlPlaneError`; no SQL here but the caller's own (`Database`).
//!
//! - `store`: `ControlPlaneStore`, one method per store method, and
//!   `ensureControlPlaneTables`.
//! - `database`: `Database` and `Statement`, a bun:sqlite-shaped handle on our connection.
//! - `host`: the engine that runs the core's statements on the caller's own SQLite handle.
//! - `connection`: a connection of ours (path form, `Database`), with its checkpoints.
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
mod probe;
mod results;
mod scope;
mod store;
mod transfer;
mod values;

use control_plane_core::error::Result as CoreResult;
use control_plane_core::engine::sqlite::{self, locks};
use env_data::{CallArgs, JsFunction};
use napi::bindgen_prelude::{Function, JsObjectValue, Object, ToNapiValue, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
pub fn result_shapes() -> Result<String> {
    Ok(results::shapes()?.to_string())
}

#[napi(module_exports)]
pub fn module_exports(env: Env, mut exports: Object) -> Result<()> {
    database::install_statement_methods(&env, &exports)?;
    gathered::install(&env, &mut exports)
}

static WARNED_NO_OFD_LOCKS: AtomicBool = AtomicBool::new(false);

/// Opens a connection of ours; on a platform without open-file-description locks, the
/// first file opened by path emits a process warning, never silently unsafe: our SQLite's
/// locks and another SQLite copy's in this process (bun:sqlite, better-sqlite3) do not
/// exclude each other there.
pub(crate) fn connection_for_path(env: &Env, path: &str) -> CoreResult<Arc<connection::Own>> {
    locks::install();
    if !sqlite::is_memory_path(path) && !locks::ofd_locks_available() && !WARNED_NO_OFD_LOCKS.swap(true, Ordering::Relaxed) {
        emit_warning(
            env,
            "This platform has no open-file-description locks: a database file opened by path is not protected from another SQLite binding (bun:sqlite, better-sqlite3) that has the same file open in this process. Pass that binding's handle to ControlPlaneStore instead.",
            "CONTROL_PLANE_NO_OFD_LOCKS",
        );
    }
    connection::Own::open(path)
}

/// `process.emitWarning(message, {code})`, best effort: whatever fails or throws is let go.
fn emit_warning(env: &Env, message: &str, code: &str) {
    let emit = || -> Result<()> {
        let process: Object = env.get_global()?.get_named_property_unchecked("process")?;
        let emit: JsFunction = process.get_named_property_unchecked("emitWarning")?;
        let mut options = Object::new(env)?;
        options.set_named_property("code", code)?;
        emit.apply(process, CallArgs::from([message.into_unknown(env)?, options.to_unknown()]))?;
        Ok(())
    };
    if emit().is_err() {
        env_data::take_exception(env);
    }
}
