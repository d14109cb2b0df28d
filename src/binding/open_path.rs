//! A connection of ours opened by path, for the store and `Database`: on a platform
//! without open-file-description locks, with a warning once per process.

use super::connection;
use super::env_data::{self, CallArgs, JsFunction};
use control_plane_core::engine::sqlite::{self, locks};
use control_plane_core::error::Result as CoreResult;
use napi::bindgen_prelude::{JsObjectValue, Object, ToNapiValue};
use napi::{Env, JsValue, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
