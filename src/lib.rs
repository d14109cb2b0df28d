//! A native control-plane store for Smithers gateways.
//!
//! `core` holds the domain logic over SQLite and knows nothing of Node.js; `binding`
//! exposes it to JavaScript through napi-rs.

pub mod core;
pub mod engine;
/// The rusqlite the core is built on, for Rust callers of `core` (tests, the fuzz target).
pub use rusqlite;
mod binding;
