//! Per-org resource quotas: how many projects, teams, members per team, secret refs and
//! identity providers an org may hold. A create checks its quota inside its own
//! `BEGIN IMMEDIATE` transaction, so concurrent creators (other processes included) can
//! never together pass the last slot.

use crate::audit::{self, NewEvent};
use crate::db;
use crate::error::{CpError, Result};
use crate::tenancy::orgs::{self, WriteKind};
use crate::validate::Input;
use crate::params;
use crate::db::Db;
use serde_json::{json, Map, Value};

/// A resource with a quota: its input and output name, its column, and how to count it.
pub struct Resource {
    pub name: &'static str,
    column: &'static str,
    count_sql: &'static str,
}

pub const PROJECTS: Resource = Resource {
    name: "maxProjects",
    column: "max_projects",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_projects WHERE org_id = ?1",
};
pub const TEAMS: Resource = Resource {
    name: "maxTeams",
    column: "max_teams",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_teams WHERE org_id = ?1",
};
/// Counted per team: `?2` is the team.
pub const MEMBERS_PER_TEAM: Resource = Resource {
    name: "maxMembersPerTeam",
    column: "max_members_per_team",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_team_members WHERE org_id = ?1 AND team_id = ?2",
};
pub const SECRET_REFS: Resource = Resource {
    name: "maxSecretRefs",
    column: "max_secret_refs",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_secret_refs WHERE org_id = ?1",
};
pub const IDENTITY_PROVIDERS: Resource = Resource {
    name: "maxIdentityProviders",
    column: "max_identity_providers",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_identity_providers WHERE org_id = ?1",
};

const ALL: [&Resource; 5] = [&PROJECTS, &TEAMS, &MEMBERS_PER_TEAM, &SECRET_REFS, &IDENTITY_PROVIDERS];

fn count(conn: &Db, resource: &Resource, org_id: &str, team_id: Option<&str>) -> Result<i64> {
    match team_id {
        Some(team) => conn.one(resource.count_sql, params![org_id, team], |r| r.get(0)),
        None => conn.one(resource.count_sql, params![org_id], |r| r.get(0)),
    }
}

fn limit_of(conn: &Db, resource: &Resource, org_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .row(&format!("SELECT {} FROM _smithers_cp_org_quotas WHERE org_id = ?1", resource.column), params![org_id], |r| r.get::<Option<i64>>(0))?
        .flatten())
}

/// Refuses one more of `resource` when the org is at its limit: `QUOTA_EXCEEDED` with
/// `{orgId, resource, limit, used}`. Call it inside the create's write transaction, before
/// inserting, and only for a row that would be new.
pub fn check(conn: &Db, resource: &Resource, org_id: &str, team_id: Option<&str>) -> Result<()> {
    let Some(limit) = limit_of(conn, resource, org_id)? else { return Ok(()) };
    let used = count(conn, resource, org_id, team_id)?;
    if used >= limit {
        return Err(CpError::new(
            "QUOTA_EXCEEDED",
            format!("Control-plane quota exceeded: {} is {limit} for org {org_id}", resource.name),
            Some(json!({ "orgId": org_id, "resource": resource.name, "limit": limit, "used": used })),
        ));
    }
    Ok(())
}

/// `setOrgQuota`: sets the given limits (a number, or `null` for none) and keeps the others.
pub fn set(conn: &Db, input: &Input) -> Result<Value> {
    let org_id = input.id("orgId")?;
    let actor_id = input.opt_id("actorId")?;
    let at = input.timestamp("updatedAtMs")?;
    let mut changes: Vec<(&Resource, Option<i64>)> = Vec::new();
    for resource in ALL {
        if !input.has(resource.name) {
            continue;
        }
        let value = match input.get(resource.name) {
            None => None,
            Some(v) => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && n >= 0.0 && n <= 1e15 => Some(n as i64),
                _ => {
                    return Err(CpError::field(
                        resource.name,
                        format!("{} must be a whole number >= 0, or null for no limit.", resource.name),
                    ))
                }
            },
        };
        changes.push((resource, value));
    }
    db::write(conn, |c| {
        orgs::guard(c, &org_id, WriteKind::Other)?;
        c.execute("INSERT OR IGNORE INTO _smithers_cp_org_quotas (org_id, updated_at_ms) VALUES (?1, ?2)", params![org_id, at])?;
        let mut metadata = Map::new();
        for (resource, value) in &changes {
            c.execute(&format!(
                "UPDATE _smithers_cp_org_quotas SET {} = ?2, updated_at_ms = ?3 WHERE org_id = ?1",
                resource.column
            ), params![org_id, value, at])?;
            metadata.insert(resource.name.to_string(), json!(value));
        }
        audit::insert_legacy(
            c,
            &NewEvent {
                org_id: &org_id,
                project_id: None,
                actor_id: actor_id.as_deref(),
                action: "org_quota.upsert",
                target_type: "org",
                target_id: Some(&org_id),
                occurred_at_ms: at,
                metadata: Value::Object(metadata),
            },
        )?;
        get_for(c, &org_id)
    })
}

/// `getOrgQuota`: the limits (`null` where none) and current counts; for members per
/// team, the count of the fullest team.
pub fn get(conn: &Db, input: &Input) -> Result<Value> {
    let org_id = input.id("orgId")?;
    db::read(conn, |c| {
        if orgs::get(c, &org_id)?.is_none() {
            return Err(CpError::org_not_found(&org_id));
        }
        get_for(c, &org_id)
    })
}

fn get_for(conn: &Db, org_id: &str) -> Result<Value> {
    let mut limits = Map::new();
    let mut used = Map::new();
    for resource in ALL {
        limits.insert(resource.name.to_string(), json!(limit_of(conn, resource, org_id)?));
    }
    used.insert("projects".into(), json!(count(conn, &PROJECTS, org_id, None)?));
    used.insert("teams".into(), json!(count(conn, &TEAMS, org_id, None)?));
    let fullest: i64 = conn
        .one(
            "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM _smithers_cp_team_members WHERE org_id = ?1 GROUP BY team_id)",
        params![org_id], |r| r.get(0))?;
    used.insert("membersInFullestTeam".into(), json!(fullest));
    used.insert("secretRefs".into(), json!(count(conn, &SECRET_REFS, org_id, None)?));
    used.insert("identityProviders".into(), json!(count(conn, &IDENTITY_PROVIDERS, org_id, None)?));
    Ok(json!({ "orgId": org_id, "limits": limits, "used": used }))
}
