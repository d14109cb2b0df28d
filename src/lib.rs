//! The Node.js binding of the control-plane store: napi-rs classes over the core crate
//! (`control-plane-core`), which knows nothing of Node.js.

mod binding;
