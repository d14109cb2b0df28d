//! Teams and team membership.

use crate::audit::{self, NewEvent};
use crate::db;
use crate::error::{is_constraint, Constraint, CpError, Result};
use crate::tenancy::orgs::{self, WriteKind};
use crate::page::{self, Page};
use crate::tenancy::parents::{self, Parents};
use crate::tenancy::quotas;
use crate::tenancy::removal::{self, not_found, Removal};
use crate::validate::Input;
use crate::params;
use crate::engine::Row;
use crate::db::Db;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    pub org_id: String,
    pub team_id: String,
    pub slug: String,
    pub name: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TeamMember {
    pub org_id: String,
    pub team_id: String,
    pub user_id: String,
    pub role: String,
    pub created_at_ms: i64,
}

pub const SELECT: &str = "SELECT org_id, team_id, slug, name, created_at_ms FROM _smithers_cp_teams";

pub fn from_row(r: &dyn Row) -> Result<Team> {
    Ok(Team { org_id: r.get(0)?, team_id: r.get(1)?, slug: r.get(2)?, name: r.get(3)?, created_at_ms: r.get(4)? })
}

fn team_event<'a>(org_id: &'a str, actor_id: Option<&'a str>, action: &'a str, team_id: &'a str, at: i64, metadata: Value) -> NewEvent<'a> {
    NewEvent { org_id, project_id: None, actor_id, action, target_type: "team", target_id: Some(team_id), occurred_at_ms: at, metadata }
}

/// `createTeam`.
pub fn create(conn: &Db, input: &Input) -> Result<Team> {
    let team = Team {
        org_id: input.id("orgId")?,
        team_id: input.id_or_new("teamId")?,
        slug: input.slug("slug")?,
        name: input.string("name")?,
        created_at_ms: input.timestamp("createdAtMs")?,
    };
    db::write(conn, |c| {
        orgs::guard(c, &team.org_id, WriteKind::Create)?;
        quotas::check(c, &quotas::TEAMS, &team.org_id, None)?;
        c.execute(
            "INSERT INTO _smithers_cp_teams (org_id, team_id, slug, name, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![team.org_id, team.team_id, team.slug, team.name, team.created_at_ms])
        .map_err(|e| {
            if is_constraint(&e, Constraint::Unique) {
                CpError::duplicate("team", "slug", &team.slug, Some(&team.org_id))
            } else if is_constraint(&e, Constraint::PrimaryKey) {
                CpError::duplicate("team", "id", &team.team_id, Some(&team.org_id))
            } else {
                Parents::org(&team.org_id).explain(c, e)
            }
        })?;
        audit::insert_legacy(c, &team_event(&team.org_id, None, "team.create", &team.team_id, team.created_at_ms, json!({})))?;
        Ok(())
    })?;
    Ok(team)
}

/// `addTeamMember`: inserts the member or updates its role.
pub fn add_member(conn: &Db, input: &Input) -> Result<()> {
    let org_id = input.id("orgId")?;
    let team_id = input.id("teamId")?;
    let user_id = input.id("userId")?;
    let role = input.string_or("role", "member")?;
    let created_at_ms = input.timestamp("createdAtMs")?;
    let parents = Parents { org_id: &org_id, project_id: None, team_id: Some(&team_id) };
    db::write(conn, |c| {
        orgs::guard(c, &org_id, WriteKind::Create)?;
        let sql = "SELECT 1 AS found FROM _smithers_cp_team_members WHERE org_id = ?1 AND team_id = ?2 AND user_id = ?3";
        if !parents::row_exists(c, sql, params![org_id, team_id, user_id])? {
            parents.check(c)?;
            quotas::check(c, &quotas::MEMBERS_PER_TEAM, &org_id, Some(&team_id))?;
        }
        c.execute(
            "INSERT INTO _smithers_cp_team_members (org_id, team_id, user_id, role, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(org_id, team_id, user_id) DO UPDATE SET role = excluded.role",
        params![org_id, team_id, user_id, role, created_at_ms])
        .map_err(|e| parents.explain(c, e))?;
        audit::insert_legacy(c, &team_event(&org_id, Some(&user_id), "team.member.upsert", &team_id, created_at_ms, json!({ "role": role })))?;
        Ok(())
    })
}

/// Every team of the org by slug (for the export).
pub fn list(conn: &Db, org_id: &str) -> Result<Vec<Team>> {
    conn.rows(&format!("{SELECT} WHERE org_id = ?1 ORDER BY slug"), params![org_id], from_row)
}

/// `listTeams({orgId, cursor?, limit?})`: by teamId.
pub fn list_page(conn: &Db, input: &Input) -> Result<Page<Team>> {
    let org_id = input.id("orgId")?;
    let (limit, cursor) = page::params(input)?;
    let after = page::text(&cursor, 0)?;
    let rows = conn
        .rows(&format!("{SELECT} WHERE org_id = ?1 AND (?2 IS NULL OR team_id > ?2) ORDER BY team_id LIMIT ?3"), params![org_id, after, limit as i64 + 1], from_row)?;
    Ok(page::finish(rows, limit, |t| vec![json!(t.team_id)]))
}

/// `getTeam({orgId, teamId})`.
pub fn get(conn: &Db, input: &Input) -> Result<Option<Team>> {
    let org_id = input.id("orgId")?;
    let team_id = input.id("teamId")?;
    Ok(conn
        .row(&format!("{SELECT} WHERE org_id = ?1 AND team_id = ?2"), params![org_id, team_id], from_row)?)
}

/// `listTeamMembers({orgId, teamId, cursor?, limit?})`: by userId.
pub fn list_members(conn: &Db, input: &Input) -> Result<Page<TeamMember>> {
    let org_id = input.id("orgId")?;
    let team_id = input.id("teamId")?;
    let (limit, cursor) = page::params(input)?;
    let after = page::text(&cursor, 0)?;
    let rows = conn
        .rows(
            "SELECT org_id, team_id, user_id, role, created_at_ms FROM _smithers_cp_team_members
             WHERE org_id = ?1 AND team_id = ?2 AND (?3 IS NULL OR user_id > ?3) ORDER BY user_id LIMIT ?4",
        params![org_id, team_id, after, limit as i64 + 1], |r| {
            Ok(TeamMember { org_id: r.get(0)?, team_id: r.get(1)?, user_id: r.get(2)?, role: r.get(3)?, created_at_ms: r.get(4)? })
        })?;
    Ok(page::finish(rows, limit, |m| vec![json!(m.user_id)]))
}

/// `removeTeamMember({orgId, teamId, userId, actorId?, atMs?})`.
pub fn remove_member(conn: &Db, input: &Input) -> Result<()> {
    let org_id = input.id("orgId")?;
    let team_id = input.id("teamId")?;
    let user_id = input.id("userId")?;
    let actor_id = input.opt_id("actorId")?;
    let at = input.timestamp("atMs")?;
    removal::remove_legacy(
        conn,
        Removal {
            what: "team member",
            details: json!({ "orgId": org_id, "teamId": team_id, "userId": user_id }),
            delete_sql: "DELETE FROM _smithers_cp_team_members WHERE org_id = ?1 AND team_id = ?2 AND user_id = ?3",
            params: params![org_id, team_id, user_id],
            event: team_event(&org_id, actor_id.as_deref(), "team.member.remove", &team_id, at, json!({ "userId": user_id })),
        },
    )
}

/// `deleteTeam({orgId, teamId, actorId?, atMs?})`: with its members and project grants.
pub fn delete(conn: &Db, input: &Input) -> Result<()> {
    let org_id = input.id("orgId")?;
    let team_id = input.id("teamId")?;
    let actor_id = input.opt_id("actorId")?;
    let at = input.timestamp("atMs")?;
    db::write(conn, |c| {
        orgs::guard(c, &org_id, WriteKind::Other)?;
        if !parents::team_exists(c, &org_id, &team_id)? {
            return Err(not_found("team", json!({ "orgId": org_id, "teamId": team_id })));
        }
        c.execute("DELETE FROM _smithers_cp_teams WHERE org_id = ?1 AND team_id = ?2", params![org_id, team_id])?;
        audit::insert_legacy(c, &team_event(&org_id, actor_id.as_deref(), "team.delete", &team_id, at, json!({})))?;
        Ok(())
    })
}
