//! Teams and team membership.

use super::audit::{self, NewEvent};
use super::db;
use super::error::{is_constraint, CpError, Result};
use super::parents::Parents;
use super::validate::Input;
use rusqlite::{ffi, params, Connection, Row};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    pub org_id: String,
    pub team_id: String,
    pub slug: String,
    pub name: String,
    pub created_at_ms: i64,
}

pub const SELECT: &str = "SELECT org_id, team_id, slug, name, created_at_ms FROM _smithers_cp_teams";

pub fn from_row(r: &Row) -> rusqlite::Result<Team> {
    Ok(Team { org_id: r.get(0)?, team_id: r.get(1)?, slug: r.get(2)?, name: r.get(3)?, created_at_ms: r.get(4)? })
}

/// `createTeam`.
pub fn create(conn: &Connection, input: &Input) -> Result<Team> {
    let team = Team {
        org_id: input.id("orgId")?,
        team_id: input.id_or_new("teamId")?,
        slug: input.slug("slug")?,
        name: input.string("name")?,
        created_at_ms: input.timestamp("createdAtMs")?,
    };
    db::write(conn, |c| {
        c.prepare_cached(
            "INSERT INTO _smithers_cp_teams (org_id, team_id, slug, name, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![team.org_id, team.team_id, team.slug, team.name, team.created_at_ms])
        .map_err(|e| {
            if is_constraint(&e, ffi::SQLITE_CONSTRAINT_UNIQUE) {
                CpError::duplicate("team", "slug", &team.slug, Some(&team.org_id))
            } else if is_constraint(&e, ffi::SQLITE_CONSTRAINT_PRIMARYKEY) {
                CpError::duplicate("team", "id", &team.team_id, Some(&team.org_id))
            } else {
                Parents::org(&team.org_id).explain(c, e)
            }
        })?;
        audit::insert(
            c,
            &NewEvent {
                org_id: &team.org_id,
                project_id: None,
                actor_id: None,
                action: "team.create",
                target_type: "team",
                target_id: Some(&team.team_id),
                occurred_at_ms: team.created_at_ms,
                metadata: json!({}),
            },
        )?;
        Ok(())
    })?;
    Ok(team)
}

/// `addTeamMember`: inserts the member or updates its role.
pub fn add_member(conn: &Connection, input: &Input) -> Result<()> {
    let org_id = input.id("orgId")?;
    let team_id = input.id("teamId")?;
    let user_id = input.id("userId")?;
    let role = input.string_or("role", "member")?;
    let created_at_ms = input.timestamp("createdAtMs")?;
    db::write(conn, |c| {
        c.prepare_cached(
            "INSERT INTO _smithers_cp_team_members (org_id, team_id, user_id, role, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(org_id, team_id, user_id) DO UPDATE SET role = excluded.role",
        )?
        .execute(params![org_id, team_id, user_id, role, created_at_ms])
        .map_err(|e| Parents { org_id: &org_id, project_id: None, team_id: Some(&team_id) }.explain(c, e))?;
        audit::insert(
            c,
            &NewEvent {
                org_id: &org_id,
                project_id: None,
                actor_id: Some(&user_id),
                action: "team.member.upsert",
                target_type: "team",
                target_id: Some(&team_id),
                occurred_at_ms: created_at_ms,
                metadata: json!({ "role": role }),
            },
        )?;
        Ok(())
    })
}

pub fn list(conn: &Connection, org_id: &str) -> Result<Vec<Team>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE org_id = ?1 ORDER BY slug"))?;
    let rows = stmt.query_map([org_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
