//! A native control-plane store for Smithers gateways.
//!
//! `core` holds the domain logic over SQLite and knows nothing of Node.js; `binding`
//! exposes it to JavaScript through napi-rs.

pub mod core;
mod binding;
