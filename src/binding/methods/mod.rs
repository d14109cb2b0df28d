//! The store's methods, one `#[napi]` method per operation, grouped as the core groups
//! them. Each calls one typed core function (`call`); the same operation on the org-scoped
//! handle (`OrgScope`) is written beside it, its org put in by the handle.

mod audit;
mod metering;
mod settings;
mod storage;
mod tenancy;
