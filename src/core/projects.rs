//! Projects and the teams granted access to them.

use super::audit::{self, NewEvent};
use super::db;
use super::error::{is_constraint, CpError, Result};
use super::parents::Parents;
use super::validate::{parse_metadata, Input};
use rusqlite::{ffi, params, Connection, Row};
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub org_id: String,
    pub project_id: String,
    pub slug: String,
    pub name: String,
    pub metadata: Value,
    pub created_at_ms: i64,
}

pub const SELECT: &str =
    "SELECT org_id, project_id, slug, name, metadata_json, created_at_ms FROM _smithers_cp_projects";

pub fn from_row(r: &Row) -> rusqlite::Result<Project> {
    Ok(Project {
        org_id: r.get(0)?,
        project_id: r.get(1)?,
        slug: r.get(2)?,
        name: r.get(3)?,
        metadata: parse_metadata(&r.get::<_, String>(4)?),
        created_at_ms: r.get(5)?,
    })
}

/// `createProject`.
pub fn create(conn: &Connection, input: &Input) -> Result<Project> {
    let org_id = input.id("orgId")?;
    let project_id = input.id_or_new("projectId")?;
    let slug = input.slug("slug")?;
    let (metadata, metadata_json) = input.metadata("metadata")?;
    let created_at_ms = input.timestamp("createdAtMs")?;
    let name = input.string("name")?;
    db::write(conn, |c| {
        c.prepare_cached(
            "INSERT INTO _smithers_cp_projects (org_id, project_id, slug, name, metadata_json, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![org_id, project_id, slug, name, metadata_json, created_at_ms])
        .map_err(|e| {
            if is_constraint(&e, ffi::SQLITE_CONSTRAINT_UNIQUE) {
                CpError::duplicate("project", "slug", &slug, Some(&org_id))
            } else if is_constraint(&e, ffi::SQLITE_CONSTRAINT_PRIMARYKEY) {
                CpError::duplicate("project", "id", &project_id, Some(&org_id))
            } else {
                Parents::org(&org_id).explain(c, e)
            }
        })?;
        audit::insert(
            c,
            &NewEvent {
                org_id: &org_id,
                project_id: Some(&project_id),
                actor_id: None,
                action: "project.create",
                target_type: "project",
                target_id: Some(&project_id),
                occurred_at_ms: created_at_ms,
                metadata: json!({}),
            },
        )?;
        Ok(())
    })?;
    Ok(Project { org_id, project_id, slug, name, metadata, created_at_ms })
}

/// `addProjectTeam`: grants a team a role on a project, or changes the role.
pub fn add_team(conn: &Connection, input: &Input) -> Result<()> {
    let org_id = input.id("orgId")?;
    let project_id = input.id("projectId")?;
    let team_id = input.id("teamId")?;
    let role = input.string_or("role", "viewer")?;
    let created_at_ms = input.timestamp("createdAtMs")?;
    let parents = Parents { org_id: &org_id, project_id: Some(&project_id), team_id: Some(&team_id) };
    db::write(conn, |c| {
        c.prepare_cached(
            "INSERT INTO _smithers_cp_project_teams (org_id, project_id, team_id, role, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(org_id, project_id, team_id) DO UPDATE SET role = excluded.role",
        )?
        .execute(params![org_id, project_id, team_id, role, created_at_ms])
        .map_err(|e| parents.explain(c, e))?;
        audit::insert(
            c,
            &NewEvent {
                org_id: &org_id,
                project_id: Some(&project_id),
                actor_id: None,
                action: "project.team.upsert",
                target_type: "team",
                target_id: Some(&team_id),
                occurred_at_ms: created_at_ms,
                metadata: json!({ "role": role }),
            },
        )?;
        Ok(())
    })
}

pub fn list(conn: &Connection, org_id: &str) -> Result<Vec<Project>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE org_id = ?1 ORDER BY slug"))?;
    let rows = stmt.query_map([org_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
