//! The store's operations, one table per concern as the core groups them
//! (`declare::operations!`): each line declares an operation once, and its methods on
//! `ControlPlaneStore`, `OrgScope` and the async store come from it.

use super::call::Prepare;
use super::declare::Declared;
use napi::bindgen_prelude::{Array, Object};
use napi::{Env, Result};

mod audit;
mod metering;
mod settings;
mod storage;
mod tenancy;

/// Every table's operations.
pub fn declared() -> impl Iterator<Item = &'static Declared> {
    [audit::DECLARED, metering::DECLARED, settings::DECLARED, storage::DECLARED, tenancy::DECLARED].into_iter().flatten()
}

/// How the async store makes a call's work, for a method a table offers there.
pub fn prepare(method: &str) -> Option<Prepare> {
    audit::prepare(method)
        .or_else(|| metering::prepare(method))
        .or_else(|| settings::prepare(method))
        .or_else(|| storage::prepare(method))
        .or_else(|| tenancy::prepare(method))
}

/// The request path's methods (the tables' `gathered` lines), into `table`.
pub fn gathered(env: &Env, exports: &Object, table: &mut Array) -> Result<()> {
    audit::gathered(env, exports, table)?;
    metering::gathered(env, exports, table)?;
    settings::gathered(env, exports, table)?;
    storage::gathered(env, exports, table)?;
    tenancy::gathered(env, exports, table)
}

/// `operationTypes()`: the tables' TypeScript declarations, which `npm run build` adds to
/// `native.d.ts` (internal).
#[napi_derive::napi(skip_typescript)]
pub fn operation_types() -> String {
    super::declare::typescript(&declared().collect::<Vec<_>>())
}

/// `operations()`: every declared operation with the faces it is offered on,
/// `[name, ["Store" | "Scope" | "Async", ...]]`, for the test that finds each there (internal).
#[napi_derive::napi(skip_typescript)]
pub fn operations() -> Vec<(String, Vec<String>)> {
    declared().map(|op| (op.name.to_string(), op.faces.iter().map(|face| format!("{face:?}")).collect())).collect()
}
