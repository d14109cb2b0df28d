//! Tenancy: organizations and their lifecycle, teams and members, projects and team
//! grants, the access they give, per-org quotas, and removal.

pub mod access;
pub mod orgs;
pub(crate) mod parents;
pub mod projects;
pub mod quotas;
pub(crate) mod removal;
pub mod teams;
