//! The control-plane store's core: plain Rust over the statement interface (`engine`), free
//! of Node.js and of any driver's types outside `engine::sqlite`. One folder per concern,
//! each module owning its SQL:
//!
//! - `tenancy`: orgs and their lifecycle, teams, projects, access, quotas, removal;
//! - `metering`: usage events, limits and their checks, the rollups behind them;
//! - `audit`: the hash-chained audit log and its queries, exports, retention;
//! - `settings`: billing accounts, identity providers, secret references;
//! - `deletion`: a project's deletion, which reaches from tenancy into metering's rollups.
//!
//! `error` stands on its own: the engine and the domain both report through it.

pub mod audit;
pub mod chain;
pub mod counts;
pub mod db;
pub mod deletion;
pub mod engine;
pub mod error;
pub mod metering;
pub mod page;
pub mod record;
pub(crate) mod parents;
pub mod request;
pub mod schema;
pub mod settings;
pub mod storage;
pub mod tenancy;
pub mod transfer;
pub mod validate;

/// `params!`, for every module as `crate::params`.
use engine::params;

#[cfg(test)]
mod budget_tests;
#[cfg(test)]
mod scale_out_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod typescript;
