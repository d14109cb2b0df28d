//! Organizations: creation, lifecycle (suspend, unsuspend, soft and hard delete), reads,
//! and the guard every write passes through.

use crate::chain::{self, NewEvent};
use crate::counts::TableCounts;
use crate::db;
use crate::db::Db;
use crate::engine::{Row, SqlValue};
use crate::error::{is_constraint, Constraint, CpError, Result};
use crate::page::{self, Page, PageRequest};
use crate::params;
use crate::request::{FromInput, RequestContext};
use crate::validate::{now_ms, Input};
use serde::Serialize;
use serde_json::{json, Value};
use ts_rs::TS;

#[derive(Debug, Default, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneOrg")]
pub struct Org {
    pub org_id: String,
    pub slug: String,
    pub name: String,
    pub created_at_ms: i64,
    #[ts(as = "OrgStatus")]
    pub status: String,
    pub suspended_at_ms: Option<i64>,
    pub suspend_reason: Option<String>,
    pub deleted_at_ms: Option<i64>,
}

/// An org's lifecycle state.
#[derive(TS)]
#[ts(rename = "ControlPlaneOrgStatus", rename_all = "lowercase")]
pub enum OrgStatus {
    Active,
    Suspended,
    Deleted,
}

/// `createOrg`'s input.
#[derive(Debug, Clone, Default, PartialEq, TS)]
#[ts(rename = "ControlPlaneCreateOrgInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct CreateOrg {
    /// A random UUID when missing or blank.
    pub org_id: Option<String>,
    pub slug: String,
    pub name: String,
    /// Now when missing.
    pub created_at_ms: Option<i64>,
}

impl FromInput for CreateOrg {
    const FIELDS: &'static [&'static str] = &["orgId", "slug", "name", "createdAtMs"];

    fn from_input(input: &Input) -> Result<Self> {
        Ok(CreateOrg {
            org_id: Some(input.id_or_new("orgId")?),
            slug: input.slug("slug")?,
            name: input.string("name")?,
            created_at_ms: Some(input.timestamp("createdAtMs")?),
        })
    }
}

/// `getOrg(orgId)` and the other calls that name one org and nothing else.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneOrgRef", rename_all = "camelCase")]
pub struct OrgRef {
    pub org_id: String,
}

impl FromInput for OrgRef {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(OrgRef { org_id: input.id("orgId")? })
    }
}

/// `getOrgBySlug(slug)`.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneOrgSlug", rename_all = "camelCase")]
pub struct OrgSlug {
    pub slug: String,
}

impl FromInput for OrgSlug {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(OrgSlug { slug: input.slug("slug")? })
    }
}

/// `listOrgs`'s input.
#[derive(Debug, Clone, Default, PartialEq, TS)]
#[ts(rename = "ControlPlaneListOrgsInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ListOrgs {
    /// Deleted orgs are listed only with `status: "deleted"`.
    #[ts(as = "Option<OrgStatus>")]
    pub status: Option<String>,
    #[ts(flatten)]
    pub page: PageRequest,
}

impl FromInput for ListOrgs {
    fn from_input(input: &Input) -> Result<Self> {
        let status = input.opt_string("status")?;
        if let Some(s) = &status {
            if !["active", "suspended", "deleted"].contains(&s.as_str()) {
                return Err(CpError::field("status", "status must be one of: active, suspended, deleted."));
            }
        }
        Ok(ListOrgs { status, page: PageRequest::from_input(input)? })
    }
}

/// `suspendOrg`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneSuspendOrgInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct SuspendOrg {
    pub org_id: String,
    pub reason: String,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub at_ms: Option<i64>,
}

impl FromInput for SuspendOrg {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(SuspendOrg {
            org_id: input.id("orgId")?,
            reason: input.string("reason")?,
            actor_id: input.opt_id("actorId")?,
            at_ms: Some(input.timestamp("atMs")?),
        })
    }
}

/// `unsuspendOrg`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneUnsuspendOrgInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct UnsuspendOrg {
    pub org_id: String,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub at_ms: Option<i64>,
}

impl FromInput for UnsuspendOrg {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(UnsuspendOrg { org_id: input.id("orgId")?, actor_id: input.opt_id("actorId")?, at_ms: Some(input.timestamp("atMs")?) })
    }
}

/// How `deleteOrg` removes an org.
#[derive(Debug, Clone, Copy, PartialEq, Default, TS)]
#[ts(rename = "ControlPlaneOrgDeleteMode", rename_all = "lowercase")]
pub enum DeleteMode {
    /// Marks the org deleted: hidden from listings, every write refused.
    #[default]
    Soft,
    /// Removes the org and every row it holds.
    Hard,
}

/// `deleteOrg`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneDeleteOrgInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct DeleteOrg {
    pub org_id: String,
    /// `soft` when missing.
    pub mode: Option<DeleteMode>,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub at_ms: Option<i64>,
}

impl FromInput for DeleteOrg {
    fn from_input(input: &Input) -> Result<Self> {
        let org_id = input.id("orgId")?;
        let mode = input.string_or("mode", "soft")?;
        let actor_id = input.opt_id("actorId")?;
        let at_ms = Some(input.timestamp("atMs")?);
        let mode = match mode.as_str() {
            "soft" => DeleteMode::Soft,
            "hard" => DeleteMode::Hard,
            _ => return Err(CpError::field("mode", "mode must be one of: soft, hard.")),
        };
        Ok(DeleteOrg { org_id, mode: Some(mode), actor_id, at_ms })
    }
}

/// What `deleteOrg` did.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "mode", rename_all = "lowercase")]
#[ts(rename = "ControlPlaneOrgDeletion")]
pub enum OrgDeletion {
    /// The org, now `deleted`.
    Soft { org: Org },
    /// The rows removed from each table.
    Hard {
        #[serde(rename = "orgId")]
        org_id: String,
        deleted: TableCounts,
    },
}

const SELECT: &str =
    "SELECT org_id, slug, name, created_at_ms, status, suspended_at_ms, suspend_reason, deleted_at_ms FROM _smithers_cp_orgs";

fn from_row(r: &dyn Row) -> Result<Org> {
    Ok(Org {
        org_id: r.get(0)?,
        slug: r.get(1)?,
        name: r.get(2)?,
        created_at_ms: r.get(3)?,
        status: r.get(4)?,
        suspended_at_ms: r.get(5)?,
        suspend_reason: r.get(6)?,
        deleted_at_ms: r.get(7)?,
    })
}

/// What a write is about to do, for the lifecycle guard.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum WriteKind {
    /// Creating a resource (team, project, member, grant, provider, limit, secret ref):
    /// refused while the org is suspended.
    Create,
    /// Anything else (usage, audit, billing, removals): allowed while suspended.
    Other,
}

/// Refuses writes to an org that does not exist (`INVALID_INPUT`), is deleted
/// (`ORG_DELETED`), or is suspended when creating (`ORG_SUSPENDED`). Run it inside the
/// write's transaction.
pub(crate) fn guard(conn: &Db, org_id: &str, kind: WriteKind) -> Result<()> {
    let state: Option<(String, Option<String>)> = conn
        .row("SELECT status, suspend_reason FROM _smithers_cp_orgs WHERE org_id = ?1", params![org_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    guard_state(org_id, state, kind)
}

/// `guard` on the org's state read by the caller: `(status, suspend_reason)`, `None` for
/// an org that does not exist.
pub(crate) fn guard_state(org_id: &str, state: Option<(String, Option<String>)>, kind: WriteKind) -> Result<()> {
    match state {
        None => Err(CpError::org_not_found(org_id)),
        Some((status, _)) if status == "deleted" => Err(CpError::new(
            "ORG_DELETED",
            format!("Control-plane org is deleted: {org_id}"),
            Some(json!({ "orgId": org_id })),
        )),
        Some((status, reason)) if status == "suspended" && kind == WriteKind::Create => Err(CpError::new(
            "ORG_SUSPENDED",
            format!("Control-plane org is suspended: {org_id}"),
            Some(json!({ "orgId": org_id, "reason": reason })),
        )),
        Some(_) => Ok(()),
    }
}

fn event<'a>(org_id: &'a str, actor_id: Option<&'a str>, action: &'a str, at: i64, metadata: Value) -> NewEvent<'a> {
    NewEvent {
        org_id,
        project_id: None,
        actor_id,
        action,
        target_type: "org",
        target_id: Some(org_id),
        occurred_at_ms: at,
        metadata,
    }
}

/// `createOrg`: the org row and its `org.create` audit event, together or not at all.
pub fn create(conn: &Db, ctx: &RequestContext, req: CreateOrg) -> Result<Org> {
    let org = Org {
        org_id: req.org_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        slug: req.slug,
        name: req.name,
        created_at_ms: req.created_at_ms.unwrap_or_else(now_ms),
        status: "active".into(),
        suspended_at_ms: None,
        suspend_reason: None,
        deleted_at_ms: None,
    };
    db::write_org(conn, &org.org_id, |c| {
        c.execute("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES (?1, ?2, ?3, ?4)", params![org.org_id, org.slug, org.name, org.created_at_ms])
            .map_err(|e| {
                if is_constraint(&e, Constraint::Unique) {
                    CpError::duplicate("org", "slug", &org.slug, None)
                } else if is_constraint(&e, Constraint::PrimaryKey) {
                    CpError::duplicate("org", "id", &org.org_id, None)
                } else {
                    e.into()
                }
            })?;
        chain::insert(c, ctx, &event(&org.org_id, Some("system"), "org.create", org.created_at_ms, json!({})))?;
        Ok(())
    })?;
    Ok(org)
}

pub(crate) fn get(conn: &Db, org_id: &str) -> Result<Option<Org>> {
    Ok(conn.row(&format!("{SELECT} WHERE org_id = ?1"), params![org_id], from_row)?)
}

/// `getOrg(orgId)`: also a deleted org, with its status.
pub fn get_org(conn: &Db, _ctx: &RequestContext, req: OrgRef) -> Result<Option<Org>> {
    get(conn, &req.org_id)
}

/// `getOrgBySlug(slug)`.
pub fn get_by_slug(conn: &Db, _ctx: &RequestContext, req: OrgSlug) -> Result<Option<Org>> {
    Ok(conn.row(&format!("{SELECT} WHERE slug = ?1"), params![req.slug], from_row)?)
}

/// `listOrgs({status?, cursor?, limit?})`: by orgId; deleted orgs only when asked for.
pub fn list(conn: &Db, _ctx: &RequestContext, req: ListOrgs) -> Result<Page<Org>> {
    let ListOrgs { status, page: PageRequest { limit, cursor } } = req;
    let after = page::text(&cursor, 0)?;
    let rows = conn.rows(&format!(
        "{SELECT} WHERE ({p1} IS NULL AND status != 'deleted' OR status = ?1) AND ({p2} IS NULL OR org_id > ?2)
         ORDER BY org_id LIMIT ?3",
        p1 = conn.dialect().text_param(1),
        p2 = conn.dialect().text_param(2),
    ), params![status, after, limit as i64 + 1], from_row)?;
    Ok(page::finish(rows, limit, |o| vec![json!(o.org_id)]))
}

fn set_state(conn: &Db, org_id: &str, sql: &str, args: &[SqlValue]) -> Result<Org> {
    conn.execute(sql, args)?;
    get(conn, org_id)?.ok_or_else(|| CpError::org_not_found(org_id))
}

/// `suspendOrg({orgId, reason, actorId?, atMs?})`.
pub fn suspend(conn: &Db, ctx: &RequestContext, req: SuspendOrg) -> Result<Org> {
    let SuspendOrg { org_id, reason, actor_id, at_ms } = req;
    let at = at_ms.unwrap_or_else(now_ms);
    db::write_org(conn, &org_id, |c| {
        guard(c, &org_id, WriteKind::Other)?;
        let org = set_state(
            c,
            &org_id,
            "UPDATE _smithers_cp_orgs SET status = 'suspended', suspended_at_ms = ?2, suspend_reason = ?3 WHERE org_id = ?1",
            params![org_id, at, reason],
        )?;
        chain::insert(c, ctx, &event(&org_id, actor_id.as_deref(), "org.suspend", at, json!({ "reason": reason })))?;
        Ok(org)
    })
}

/// `unsuspendOrg({orgId, actorId?, atMs?})`.
pub fn unsuspend(conn: &Db, ctx: &RequestContext, req: UnsuspendOrg) -> Result<Org> {
    let UnsuspendOrg { org_id, actor_id, at_ms } = req;
    let at = at_ms.unwrap_or_else(now_ms);
    db::write_org(conn, &org_id, |c| {
        guard(c, &org_id, WriteKind::Other)?;
        let org = set_state(
            c,
            &org_id,
            "UPDATE _smithers_cp_orgs SET status = 'active', suspended_at_ms = NULL, suspend_reason = NULL WHERE org_id = ?1",
            params![org_id],
        )?;
        chain::insert(c, ctx, &event(&org_id, actor_id.as_deref(), "org.unsuspend", at, json!({})))?;
        Ok(org)
    })
}

/// The tables holding an org's rows, children first; all cascade from the org row.
const ORG_TABLES: [&str; 20] = [
    "_smithers_cp_retention",
    "_smithers_cp_usage_dense_minutes",
    "_smithers_cp_audit_chain_redactions",
    "_smithers_cp_audit_chain_heads",
    "_smithers_cp_team_members",
    "_smithers_cp_project_teams",
    "_smithers_cp_usage_corrections",
    "_smithers_cp_credit_grants",
    "_smithers_cp_usage_events",
    "_smithers_cp_usage_limits",
    "_smithers_cp_usage_rollups",
    "_smithers_cp_usage_series",
    "_smithers_cp_secret_refs",
    "_smithers_cp_audit_events",
    "_smithers_cp_identity_providers",
    "_smithers_cp_billing_accounts",
    "_smithers_cp_org_quotas",
    "_smithers_cp_teams",
    "_smithers_cp_projects",
    "_smithers_cp_orgs",
];

/// Removes an org and every row of it (the org row's cascade); the rows removed per table.
/// With `count_only`, only counts them. Runs in the caller's transaction.
pub(crate) fn hard_delete(c: &Db, org_id: &str, count_only: bool) -> Result<TableCounts> {
    let mut deleted = TableCounts::default();
    for table in ORG_TABLES {
        // Rollups name their series by number; the series carry the org.
        let condition = if table == "_smithers_cp_usage_rollups" {
            "series IN (SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1)"
        } else {
            "org_id = ?1"
        };
        let n: i64 = c.one(&format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}"), params![org_id], |r| r.get(0))?;
        deleted.add(table, n);
    }
    if !count_only {
        c.execute("DELETE FROM _smithers_cp_orgs WHERE org_id = ?1", params![org_id])?;
    }
    Ok(deleted)
}

/// `deleteOrg({orgId, mode?, actorId?, atMs?})`: `soft` (the default) marks the org
/// deleted, hiding it from listings and refusing every write; `hard` removes it and every
/// row it holds, and returns how many rows went from each table.
pub fn delete(conn: &Db, ctx: &RequestContext, req: DeleteOrg) -> Result<OrgDeletion> {
    let DeleteOrg { org_id, mode, actor_id, at_ms } = req;
    let at = at_ms.unwrap_or_else(now_ms);
    let locked = org_id.clone();
    db::write_org(conn, &locked, |c| match mode.unwrap_or_default() {
        DeleteMode::Soft => {
            guard(c, &org_id, WriteKind::Other)?;
            let org = set_state(
                c,
                &org_id,
                "UPDATE _smithers_cp_orgs SET status = 'deleted', deleted_at_ms = ?2 WHERE org_id = ?1",
                params![org_id, at],
            )?;
            chain::insert(c, ctx, &event(&org_id, actor_id.as_deref(), "org.delete", at, json!({ "mode": "soft" })))?;
            Ok(OrgDeletion::Soft { org })
        }
        DeleteMode::Hard => {
            if get(c, &org_id)?.is_none() {
                return Err(CpError::org_not_found(&org_id));
            }
            let deleted = hard_delete(c, &org_id, false)?;
            Ok(OrgDeletion::Hard { org_id, deleted })
        }
    })
}
