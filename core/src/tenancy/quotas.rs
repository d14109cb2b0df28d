//! Per-org resource quotas: how many projects, teams, members per team, secret refs and
//! identity providers an org may hold. A create checks its quota inside its own
//! `BEGIN IMMEDIATE` transaction, so concurrent creators (other processes included) can
//! never together pass the last slot.

use crate::engine::Both;
use crate::chain::{self, NewEvent};
use crate::db;
use crate::error::{CpError, Result};
use crate::request::{FromInput, RequestContext};
use crate::tenancy::orgs::{self, OrgRef, WriteKind};
use crate::validate::{now_ms, Input};
use crate::params;
use crate::db::Db;
use serde::Serialize;
use serde_json::{json, Map, Value};
use ts_rs::TS;

/// A resource with a quota: its input and output name, its column, and how to count it
/// (its table, and the count's statement).
pub(crate) struct Resource {
    name: &'static str,
    column: &'static str,
    table: &'static str,
    count_sql: &'static str,
}

impl Resource {
    /// The limit's column in `_smithers_cp_org_quotas`.
    pub(crate) fn column(&self) -> &'static str {
        self.column
    }

    /// The table whose rows of the org count against the limit.
    pub(crate) fn table(&self) -> &'static str {
        self.table
    }
}

pub(crate) const PROJECTS: Resource = Resource {
    name: "maxProjects",
    column: "max_projects",
    table: "_smithers_cp_projects",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_projects WHERE org_id = ?1",
};
pub(crate) const TEAMS: Resource = Resource {
    name: "maxTeams",
    column: "max_teams",
    table: "_smithers_cp_teams",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_teams WHERE org_id = ?1",
};
/// Counted per team: `?2` is the team.
pub(crate) const MEMBERS_PER_TEAM: Resource = Resource {
    name: "maxMembersPerTeam",
    column: "max_members_per_team",
    table: "_smithers_cp_team_members",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_team_members WHERE org_id = ?1 AND team_id = ?2",
};
pub(crate) const SECRET_REFS: Resource = Resource {
    name: "maxSecretRefs",
    column: "max_secret_refs",
    table: "_smithers_cp_secret_refs",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_secret_refs WHERE org_id = ?1",
};
pub(crate) const IDENTITY_PROVIDERS: Resource = Resource {
    name: "maxIdentityProviders",
    column: "max_identity_providers",
    table: "_smithers_cp_identity_providers",
    count_sql: "SELECT COUNT(*) FROM _smithers_cp_identity_providers WHERE org_id = ?1",
};

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
pub(crate) fn check(conn: &Db, resource: &Resource, org_id: &str, team_id: Option<&str>) -> Result<()> {
    let Some(limit) = limit_of(conn, resource, org_id)? else { return Ok(()) };
    let used = count(conn, resource, org_id, team_id)?;
    if used >= limit {
        return Err(exceeded(resource, org_id, limit, used));
    }
    Ok(())
}

/// `QUOTA_EXCEEDED` with `{orgId, resource, limit, used}`.
pub(crate) fn exceeded(resource: &Resource, org_id: &str, limit: i64, used: i64) -> CpError {
    CpError::new(
        "QUOTA_EXCEEDED",
        format!("Control-plane quota exceeded: {} is {limit} for org {org_id}", resource.name),
        Some(json!({ "orgId": org_id, "resource": resource.name, "limit": limit, "used": used })),
    )
}

/// An org's limits: `null` where there is none.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneQuotaLimits")]
pub struct QuotaLimits {
    pub max_projects: Option<i64>,
    pub max_teams: Option<i64>,
    pub max_members_per_team: Option<i64>,
    pub max_secret_refs: Option<i64>,
    pub max_identity_providers: Option<i64>,
}

/// What an org holds of each resource with a quota.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneQuotaUsage")]
pub struct QuotaUsage {
    pub projects: i64,
    pub teams: i64,
    /// The member count of the org's fullest team.
    pub members_in_fullest_team: i64,
    pub secret_refs: i64,
    pub identity_providers: i64,
}

/// An org's quotas and how much of each it uses.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneOrgQuota")]
pub struct OrgQuota {
    pub org_id: String,
    pub limits: QuotaLimits,
    pub used: QuotaUsage,
}

/// `setOrgQuota`'s input. Each limit is a whole number >= 0 (at most 10^15), `null` for
/// no limit, or left out to keep the one set.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneSetOrgQuotaInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct SetOrgQuota {
    pub org_id: String,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub updated_at_ms: Option<i64>,
    // `None`: kept; `Some(None)`: no limit; `Some(Some(n))`: a limit of n.
    #[ts(as = "Option<i64>")]
    pub max_projects: Option<Option<i64>>,
    #[ts(as = "Option<i64>")]
    pub max_teams: Option<Option<i64>>,
    #[ts(as = "Option<i64>")]
    pub max_members_per_team: Option<Option<i64>>,
    #[ts(as = "Option<i64>")]
    pub max_secret_refs: Option<Option<i64>>,
    #[ts(as = "Option<i64>")]
    pub max_identity_providers: Option<Option<i64>>,
}

impl FromInput for SetOrgQuota {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(SetOrgQuota {
            org_id: input.id("orgId")?,
            actor_id: input.opt_id("actorId")?,
            updated_at_ms: Some(input.timestamp("updatedAtMs")?),
            max_projects: change(input, &PROJECTS)?,
            max_teams: change(input, &TEAMS)?,
            max_members_per_team: change(input, &MEMBERS_PER_TEAM)?,
            max_secret_refs: change(input, &SECRET_REFS)?,
            max_identity_providers: change(input, &IDENTITY_PROVIDERS)?,
        })
    }
}

impl SetOrgQuota {
    /// The limits to change, in the order they are written (and appear in the audit event).
    fn changes(&self) -> Vec<(&'static Resource, Option<i64>)> {
        [
            (&PROJECTS, self.max_projects),
            (&TEAMS, self.max_teams),
            (&MEMBERS_PER_TEAM, self.max_members_per_team),
            (&SECRET_REFS, self.max_secret_refs),
            (&IDENTITY_PROVIDERS, self.max_identity_providers),
        ]
        .into_iter()
        .filter_map(|(resource, change)| change.map(|value| (resource, value)))
        .collect()
    }
}

/// One limit of `setOrgQuota`'s input: absent is no change, `null` no limit. A field that
/// is there (even as `null`) is a change.
fn change(input: &Input, resource: &Resource) -> Result<Option<Option<i64>>> {
    if !input.has(resource.name) {
        return Ok(None);
    }
    match input.get(resource.name) {
        None => Ok(Some(None)),
        Some(v) => match v.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= 0.0 && n <= 1e15 => Ok(Some(Some(n as i64))),
            _ => Err(CpError::field(resource.name, format!("{} must be a whole number >= 0, or null for no limit.", resource.name))),
        },
    }
}

/// `setOrgQuota`: sets the given limits (a number, or `null` for none) and keeps the others.
pub fn set(conn: &Db, ctx: &RequestContext, req: SetOrgQuota) -> Result<OrgQuota> {
    let changes = req.changes();
    let SetOrgQuota { org_id, actor_id, updated_at_ms, .. } = req;
    let at = updated_at_ms.unwrap_or_else(now_ms);
    db::write_org(conn, &org_id, |c| {
        orgs::guard(c, &org_id, WriteKind::Other)?;
        c.execute(
            c.pick(Both {
                sqlite: "INSERT OR IGNORE INTO _smithers_cp_org_quotas (org_id, updated_at_ms) VALUES (?1, ?2)",
                postgres: "INSERT INTO _smithers_cp_org_quotas (org_id, updated_at_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            }),
            params![org_id, at],
        )?;
        let mut metadata = Map::new();
        for (resource, value) in &changes {
            c.execute(&format!(
                "UPDATE _smithers_cp_org_quotas SET {} = ?2, updated_at_ms = ?3 WHERE org_id = ?1",
                resource.column
            ), params![org_id, value, at])?;
            metadata.insert(resource.name.to_string(), json!(value));
        }
        chain::insert(
            c,
            ctx,
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
pub fn get(conn: &Db, _ctx: &RequestContext, req: OrgRef) -> Result<OrgQuota> {
    let org_id = req.org_id;
    db::read(conn, |c| {
        if orgs::get(c, &org_id)?.is_none() {
            return Err(CpError::org_not_found(&org_id));
        }
        get_for(c, &org_id)
    })
}

fn get_for(conn: &Db, org_id: &str) -> Result<OrgQuota> {
    let limits = QuotaLimits {
        max_projects: limit_of(conn, &PROJECTS, org_id)?,
        max_teams: limit_of(conn, &TEAMS, org_id)?,
        max_members_per_team: limit_of(conn, &MEMBERS_PER_TEAM, org_id)?,
        max_secret_refs: limit_of(conn, &SECRET_REFS, org_id)?,
        max_identity_providers: limit_of(conn, &IDENTITY_PROVIDERS, org_id)?,
    };
    let used = QuotaUsage {
        projects: count(conn, &PROJECTS, org_id, None)?,
        teams: count(conn, &TEAMS, org_id, None)?,
        members_in_fullest_team: conn.one(
            conn.pick(Both {
                sqlite: "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM _smithers_cp_team_members WHERE org_id = ?1 GROUP BY team_id)",
                postgres: // A subquery in FROM is named in PostgreSQL.
                "SELECT COALESCE(MAX(n), 0) AS n FROM (SELECT COUNT(*) AS n FROM _smithers_cp_team_members WHERE org_id = ?1 GROUP BY team_id) AS t",
            }),
            params![org_id],
            |r| r.get(0),
        )?,
        secret_refs: count(conn, &SECRET_REFS, org_id, None)?,
        identity_providers: count(conn, &IDENTITY_PROVIDERS, org_id, None)?,
    };
    Ok(OrgQuota { org_id: org_id.to_string(), limits, used })
}
