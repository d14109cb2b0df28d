//! An org's settings: billing account, identity providers, references to secrets.

pub mod billing;
pub mod identity;
pub mod secrets;
