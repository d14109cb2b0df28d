//! Organizations: creation, lifecycle (suspend, unsuspend, soft and hard delete), reads,
//! and the guard every write passes through.

use crate::audit::{self, NewEvent};
use crate::db;
use crate::error::{is_constraint, Constraint, CpError, Result};
use crate::page::{self, Page};
use crate::validate::Input;
use crate::params;
use crate::engine::Row;
use crate::db::Db;
use crate::engine::SqlValue;
use serde::Serialize;
use serde_json::{json, Map, Value};

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    pub org_id: String,
    pub slug: String,
    pub name: String,
    pub created_at_ms: i64,
    pub status: String,
    pub suspended_at_ms: Option<i64>,
    pub suspend_reason: Option<String>,
    pub deleted_at_ms: Option<i64>,
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
pub enum WriteKind {
    /// Creating a resource (team, project, member, grant, provider, limit, secret ref):
    /// refused while the org is suspended.
    Create,
    /// Anything else (usage, audit, billing, removals): allowed while suspended.
    Other,
}

/// Refuses writes to an org that does not exist (`INVALID_INPUT`), is deleted
/// (`ORG_DELETED`), or is suspended when creating (`ORG_SUSPENDED`). Run it inside the
/// write's transaction.
pub fn guard(conn: &Db, org_id: &str, kind: WriteKind) -> Result<()> {
    let state: Option<(String, Option<String>)> = conn
        .row("SELECT status, suspend_reason FROM _smithers_cp_orgs WHERE org_id = ?1", params![org_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
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
pub fn create(conn: &Db, input: &Input) -> Result<Org> {
    let org = Org {
        org_id: input.id_or_new("orgId")?,
        slug: input.slug("slug")?,
        name: input.string("name")?,
        created_at_ms: input.timestamp("createdAtMs")?,
        status: "active".into(),
        suspended_at_ms: None,
        suspend_reason: None,
        deleted_at_ms: None,
    };
    db::write(conn, |c| {
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
        audit::insert(c, &event(&org.org_id, Some("system"), "org.create", org.created_at_ms, json!({})))?;
        Ok(())
    })?;
    Ok(org)
}

pub fn get(conn: &Db, org_id: &str) -> Result<Option<Org>> {
    Ok(conn.row(&format!("{SELECT} WHERE org_id = ?1"), params![org_id], from_row)?)
}

/// `getOrg(orgId)`: also a deleted org, with its status.
pub fn get_input(conn: &Db, input: &Input) -> Result<Option<Org>> {
    get(conn, &input.id("orgId")?)
}

/// `getOrgBySlug(slug)`.
pub fn get_by_slug(conn: &Db, input: &Input) -> Result<Option<Org>> {
    let slug = input.slug("slug")?;
    Ok(conn.row(&format!("{SELECT} WHERE slug = ?1"), params![slug], from_row)?)
}

/// `listOrgs({status?, cursor?, limit?})`: by orgId; deleted orgs only when asked for.
pub fn list(conn: &Db, input: &Input) -> Result<Page<Org>> {
    let status = input.opt_string("status")?;
    if let Some(s) = &status {
        if !["active", "suspended", "deleted"].contains(&s.as_str()) {
            return Err(CpError::field("status", "status must be one of: active, suspended, deleted."));
        }
    }
    let (limit, cursor) = page::params(input)?;
    let after = page::text(&cursor, 0)?;
    let rows = conn.rows(&format!(
        "{SELECT} WHERE (?1 IS NULL AND status != 'deleted' OR status = ?1) AND (?2 IS NULL OR org_id > ?2)
         ORDER BY org_id LIMIT ?3"
    ), params![status, after, limit as i64 + 1], from_row)?;
    Ok(page::finish(rows, limit, |o| vec![json!(o.org_id)]))
}

fn set_state(conn: &Db, org_id: &str, sql: &str, args: &[SqlValue]) -> Result<Org> {
    conn.execute(sql, args)?;
    get(conn, org_id)?.ok_or_else(|| CpError::org_not_found(org_id))
}

/// `suspendOrg({orgId, reason, actorId?, atMs?})`.
pub fn suspend(conn: &Db, input: &Input) -> Result<Org> {
    let org_id = input.id("orgId")?;
    let reason = input.string("reason")?;
    let actor_id = input.opt_id("actorId")?;
    let at = input.timestamp("atMs")?;
    db::write(conn, |c| {
        guard(c, &org_id, WriteKind::Other)?;
        let org = set_state(
            c,
            &org_id,
            "UPDATE _smithers_cp_orgs SET status = 'suspended', suspended_at_ms = ?2, suspend_reason = ?3 WHERE org_id = ?1",
            params![org_id, at, reason],
        )?;
        audit::insert(c, &event(&org_id, actor_id.as_deref(), "org.suspend", at, json!({ "reason": reason })))?;
        Ok(org)
    })
}

/// `unsuspendOrg({orgId, actorId?, atMs?})`.
pub fn unsuspend(conn: &Db, input: &Input) -> Result<Org> {
    let org_id = input.id("orgId")?;
    let actor_id = input.opt_id("actorId")?;
    let at = input.timestamp("atMs")?;
    db::write(conn, |c| {
        guard(c, &org_id, WriteKind::Other)?;
        let org = set_state(
            c,
            &org_id,
            "UPDATE _smithers_cp_orgs SET status = 'active', suspended_at_ms = NULL, suspend_reason = NULL WHERE org_id = ?1",
            params![org_id],
        )?;
        audit::insert(c, &event(&org_id, actor_id.as_deref(), "org.unsuspend", at, json!({})))?;
        Ok(org)
    })
}

/// The tables holding an org's rows, children first; all cascade from the org row.
const ORG_TABLES: [&str; 18] = [
    "_smithers_cp_retention",
    "_smithers_cp_usage_dense_minutes",
    "_smithers_cp_audit_chain_redactions",
    "_smithers_cp_audit_chain_heads",
    "_smithers_cp_team_members",
    "_smithers_cp_project_teams",
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
pub fn hard_delete(c: &Db, org_id: &str, count_only: bool) -> Result<Map<String, Value>> {
    let mut deleted = Map::new();
    for table in ORG_TABLES {
        // Rollups name their series by number; the series carry the org.
        let condition = if table == "_smithers_cp_usage_rollups" {
            "series IN (SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1)"
        } else {
            "org_id = ?1"
        };
        let n: i64 = c.one(&format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}"), params![org_id], |r| r.get(0))?;
        deleted.insert(table.to_string(), json!(n));
    }
    if !count_only {
        c.execute("DELETE FROM _smithers_cp_orgs WHERE org_id = ?1", params![org_id])?;
    }
    Ok(deleted)
}

/// `deleteOrg({orgId, mode?, actorId?, atMs?})`: `soft` (the default) marks the org
/// deleted, hiding it from listings and refusing every write; `hard` removes it and every
/// row it holds, and returns how many rows went from each table.
pub fn delete(conn: &Db, input: &Input) -> Result<Value> {
    let org_id = input.id("orgId")?;
    let mode = input.string_or("mode", "soft")?;
    let actor_id = input.opt_id("actorId")?;
    let at = input.timestamp("atMs")?;
    db::write(conn, |c| match mode.as_str() {
        "soft" => {
            guard(c, &org_id, WriteKind::Other)?;
            let org = set_state(
                c,
                &org_id,
                "UPDATE _smithers_cp_orgs SET status = 'deleted', deleted_at_ms = ?2 WHERE org_id = ?1",
                params![org_id, at],
            )?;
            audit::insert(c, &event(&org_id, actor_id.as_deref(), "org.delete", at, json!({ "mode": "soft" })))?;
            Ok(json!({ "mode": "soft", "org": org }))
        }
        "hard" => {
            if get(c, &org_id)?.is_none() {
                return Err(CpError::org_not_found(&org_id));
            }
            let deleted = hard_delete(c, &org_id, false)?;
            Ok(json!({ "mode": "hard", "orgId": org_id, "deleted": deleted }))
        }
        _ => Err(CpError::field("mode", "mode must be one of: soft, hard.")),
    })
}
