//! `exportOrgAudit`: everything an org holds, read from one snapshot.

use super::audit::{self, AuditEvent};
use super::billing::{self, BillingAccount};
use super::db;
use super::error::{CpError, Result};
use super::identity::{self, IdentityProvider};
use super::limits::{self, UsageLimit};
use super::orgs::{self, Org};
use super::projects::{self, Project};
use super::secrets::{self, Scope, SecretRef};
use super::teams::{self, Team};
use super::usage::{self, UsageSummary, Window};
use super::validate::Input;
use rusqlite::Connection;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgExport {
    pub exported_at_ms: i64,
    pub org: Org,
    pub projects: Vec<Project>,
    pub teams: Vec<Team>,
    pub billing: Option<BillingAccount>,
    pub identity_providers: Vec<IdentityProvider>,
    pub usage: Vec<UsageSummary>,
    pub usage_limits: Vec<UsageLimit>,
    pub secret_refs: Vec<SecretRef>,
    pub audit_events: Vec<AuditEvent>,
}

pub fn export(conn: &Connection, input: &Input) -> Result<OrgExport> {
    let org_id = input.id("orgId")?;
    let window = Window::from_input(input)?;
    let exported_at_ms = input.timestamp("exportedAtMs")?;
    super::rollups::fold_long_tail(conn)?;
    db::read(conn, |c| {
        let org = orgs::get(c, &org_id)?.ok_or_else(|| CpError::org_not_found(&org_id))?;
        Ok(OrgExport {
            exported_at_ms,
            org,
            projects: projects::list(c, &org_id)?,
            teams: teams::list(c, &org_id)?,
            billing: billing::get(c, &org_id)?,
            identity_providers: identity::list_for(c, &org_id, None)?,
            usage: usage::summarize_for(c, &org_id, window)?,
            usage_limits: limits::list(c, &org_id)?,
            secret_refs: secrets::list_for(c, &org_id, &Scope::All)?,
            audit_events: audit::list_window(c, &org_id, window.since_ms, window.until_ms)?,
        })
    })
}
