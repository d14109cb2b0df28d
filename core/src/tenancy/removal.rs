//! The shape every removal shares: in one transaction, the org's lifecycle guard, the
//! delete, `NOT_FOUND` when nothing was there, and the audit event.

use crate::chain::{self, NewEvent};
use crate::db;
use crate::error::{CpError, Result};
use crate::request::RequestContext;
use crate::tenancy::orgs::{self, WriteKind};
use crate::db::Db;
use crate::engine::SqlValue;
use serde_json::Value;

/// `NOT_FOUND` for a removal of something that is not there.
pub(crate) fn not_found(what: &str, details: Value) -> CpError {
    CpError::new("NOT_FOUND", format!("Control-plane {what} not found."), Some(details))
}

pub(crate) struct Removal<'a> {
    /// What is removed, for the error message ("team member").
    pub(crate) what: &'a str,
    /// The key of what is removed, for the error's details.
    pub(crate) details: Value,
    pub(crate) delete_sql: &'a str,
    pub(crate) params: &'a [SqlValue<'a>],
    pub(crate) event: NewEvent<'a>,
}

/// Runs the removal; its audit event carries the request's context.
pub(crate) fn remove(conn: &Db, ctx: &RequestContext, removal: Removal) -> Result<()> {
    db::write_org(conn, removal.event.org_id, |c| {
        orgs::guard(c, removal.event.org_id, WriteKind::Other)?;
        if c.execute(removal.delete_sql, removal.params)? == 0 {
            return Err(not_found(removal.what, removal.details.clone()));
        }
        chain::insert(c, ctx, &removal.event)?;
        Ok(())
    })
}
