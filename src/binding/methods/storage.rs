//! The database as a whole: what the CLI's `init`, `stats` and `doctor` read.

use crate::binding::call::{self, Given::Optional};
use crate::binding::store::ControlPlaneStore;
use control_plane_core::storage;
use napi::bindgen_prelude::Unknown;
use napi::{Env, Result};
use napi_derive::napi;

#[napi]
impl ControlPlaneStore {
    /// The schema version and the rows of each of the store's tables.
    #[napi(ts_return_type = "ControlPlaneStats")]
    pub fn stats<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        call::value(self, env, None, Optional, storage::stats)
    }

    /// SQLite's integrity check of the whole database: `{integrity: "ok"}` when sound.
    #[napi(ts_return_type = "ControlPlaneIntegrity")]
    pub fn check_integrity<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        call::value(self, env, None, Optional, storage::check_integrity)
    }
}
