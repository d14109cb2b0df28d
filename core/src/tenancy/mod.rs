//! Tenancy: organizations and their lifecycle, teams and members, projects and team
//! grants, the access they give, per-org quotas, and removal.

pub mod access;
mod create_postgres;
pub mod orgs;
pub mod projects;
pub mod quotas;
pub(crate) mod removal;
pub mod teams;

/// The server-side functions of tenancy's calls on PostgreSQL, for the schema to create.
pub(crate) fn postgres_functions() -> String {
    create_postgres::functions()
}
