//! The control-plane core: plain Rust over the statement interface (`crate::engine`), free
//! of Node types and of any driver's.
//! One module per concern, each owning its SQL; `store::call` is the single entry the
//! binding uses.

pub mod access;
pub mod audit;
pub mod billing;
pub mod db;
pub mod error;
pub mod export;
pub mod identity;
pub mod limits;
pub mod orgs;
pub mod page;
pub mod parents;
pub mod projects;
pub mod quotas;
pub mod removal;
pub mod retention;
pub mod rollups;
pub mod schema;
pub mod secrets;
pub mod store;
pub mod teams;
pub mod usage;
pub mod validate;

#[cfg(test)]
mod tests;
