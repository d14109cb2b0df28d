//! Projects and the teams granted access to them.

use crate::chain::{self, NewEvent};
use crate::db;
use crate::error::{is_constraint, Constraint, CpError, Result};
use crate::tenancy::orgs::{self, WriteKind};
use crate::page::{self, Page, PageRequest};
use crate::parents::Parents;
use crate::tenancy::quotas;
use crate::tenancy::removal::{self, Removal};
use crate::request::{FromInput, RequestContext};
use crate::validate::{now_ms, parse_metadata, Input};
use crate::params;
use crate::engine::{Dialect, Row};
use crate::tenancy::create_postgres;
use crate::db::Db;
use serde::Serialize;
use serde_json::{json, Value};
use ts_rs::TS;

#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneProject")]
pub struct Project {
    pub org_id: String,
    pub project_id: String,
    pub slug: String,
    pub name: String,
    #[ts(type = "Record<string, unknown>")]
    pub metadata: Value,
    pub created_at_ms: i64,
}

/// A team's grant on a project.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneProjectTeam")]
pub struct ProjectTeam {
    pub org_id: String,
    pub project_id: String,
    pub team_id: String,
    /// The role the team holds on the project.
    pub role: String,
    pub created_at_ms: i64,
}

/// `createProject`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneCreateProjectInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct CreateProject {
    pub org_id: String,
    /// A random UUID when missing or blank.
    pub project_id: Option<String>,
    /// Unique within the org.
    pub slug: String,
    pub name: String,
    /// A JSON object (at most 64 KiB of JSON, 16 levels deep); `{}` when missing.
    #[ts(optional, type = "Record<string, unknown> | null")]
    pub metadata: Option<Value>,
    /// Now when missing.
    pub created_at_ms: Option<i64>,
}

impl FromInput for CreateProject {
    fn from_input(input: &Input) -> Result<Self> {
        // In the order the store has always read them, so the same field is named first.
        let org_id = input.id("orgId")?;
        let project_id = input.id_or_new("projectId")?;
        let slug = input.slug("slug")?;
        let (metadata, _) = input.metadata("metadata")?;
        let created_at_ms = input.timestamp("createdAtMs")?;
        let name = input.string("name")?;
        Ok(CreateProject { org_id, project_id: Some(project_id), slug, name, metadata: Some(metadata), created_at_ms: Some(created_at_ms) })
    }
}

/// `addProjectTeam`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneAddProjectTeamInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct AddProjectTeam {
    pub org_id: String,
    pub project_id: String,
    pub team_id: String,
    /// `viewer` when missing; replaces the role of a grant already there.
    pub role: Option<String>,
    /// Now when missing; a grant already there keeps its own.
    pub created_at_ms: Option<i64>,
}

impl FromInput for AddProjectTeam {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(AddProjectTeam {
            org_id: input.id("orgId")?,
            project_id: input.id("projectId")?,
            team_id: input.id("teamId")?,
            role: Some(input.string_or("role", "viewer")?),
            created_at_ms: Some(input.timestamp("createdAtMs")?),
        })
    }
}

/// `listProjects`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneListProjectsInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ListProjects {
    pub org_id: String,
    #[ts(flatten)]
    pub page: PageRequest,
}

impl FromInput for ListProjects {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(ListProjects { org_id: input.id("orgId")?, page: PageRequest::from_input(input)? })
    }
}

/// `getProject`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneGetProjectInput", rename_all = "camelCase")]
pub struct GetProject {
    pub org_id: String,
    pub project_id: String,
}

impl FromInput for GetProject {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(GetProject { org_id: input.id("orgId")?, project_id: input.id("projectId")? })
    }
}

/// `listProjectTeams`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneListProjectTeamsInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ListProjectTeams {
    pub org_id: String,
    pub project_id: String,
    #[ts(flatten)]
    pub page: PageRequest,
}

impl FromInput for ListProjectTeams {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(ListProjectTeams { org_id: input.id("orgId")?, project_id: input.id("projectId")?, page: PageRequest::from_input(input)? })
    }
}

/// `removeProjectTeam`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneRemoveProjectTeamInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct RemoveProjectTeam {
    pub org_id: String,
    pub project_id: String,
    pub team_id: String,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub at_ms: Option<i64>,
}

impl FromInput for RemoveProjectTeam {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(RemoveProjectTeam {
            org_id: input.id("orgId")?,
            project_id: input.id("projectId")?,
            team_id: input.id("teamId")?,
            actor_id: input.opt_id("actorId")?,
            at_ms: Some(input.timestamp("atMs")?),
        })
    }
}

/// `deleteProject`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneDeleteProjectInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct DeleteProject {
    pub org_id: String,
    pub project_id: String,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub at_ms: Option<i64>,
}

impl FromInput for DeleteProject {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(DeleteProject {
            org_id: input.id("orgId")?,
            project_id: input.id("projectId")?,
            actor_id: input.opt_id("actorId")?,
            at_ms: Some(input.timestamp("atMs")?),
        })
    }
}

const SELECT: &str =
    "SELECT org_id, project_id, slug, name, metadata_json, created_at_ms FROM _smithers_cp_projects";

fn from_row(r: &dyn Row) -> Result<Project> {
    Ok(Project {
        org_id: r.get(0)?,
        project_id: r.get(1)?,
        slug: r.get(2)?,
        name: r.get(3)?,
        metadata: parse_metadata(&r.get::<String>(4)?),
        created_at_ms: r.get(5)?,
    })
}

/// `createProject`: the project and its `project.create` event, within the org's project
/// quota.
pub fn create(conn: &Db, ctx: &RequestContext, req: CreateProject) -> Result<Project> {
    let CreateProject { org_id, project_id, slug, name, metadata, created_at_ms } = req;
    let project_id = project_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let metadata = metadata.unwrap_or_else(crate::request::empty);
    // The text `Input::metadata` stores: the object as JSON.
    let metadata_json = metadata.to_string();
    let created_at_ms = created_at_ms.unwrap_or_else(now_ms);
    let inserted = |c: &Db, e: CpError| {
        if is_constraint(&e, Constraint::Unique) {
            CpError::duplicate("project", "slug", &slug, Some(&org_id))
        } else if is_constraint(&e, Constraint::PrimaryKey) {
            CpError::duplicate("project", "id", &project_id, Some(&org_id))
        } else {
            Parents::org(&org_id).explain(c, e)
        }
    };
    let event = NewEvent {
        org_id: &org_id,
        project_id: Some(&project_id),
        actor_id: None,
        action: "project.create",
        target_type: "project",
        target_id: Some(&project_id),
        occurred_at_ms: created_at_ms,
        metadata: json!({}),
    };
    if conn.dialect() == Dialect::Postgres {
        // One round trip: the server's `_smithers_cp_create` (`create_postgres`).
        let row = json!({ "org_id": org_id, "project_id": project_id, "slug": slug, "name": name,
                          "metadata_json": metadata_json, "created_at_ms": created_at_ms });
        let Value::Object(row) = row else { unreachable!("a JSON object") };
        create_postgres::create(conn, ctx, "_smithers_cp_projects", row, Some(&quotas::PROJECTS), &event, |e| inserted(conn, e))?;
    } else {
        db::write_org(conn, &org_id, |c| {
            orgs::guard(c, &org_id, WriteKind::Create)?;
            quotas::check(c, &quotas::PROJECTS, &org_id, None)?;
            c.execute(
                "INSERT INTO _smithers_cp_projects (org_id, project_id, slug, name, metadata_json, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![org_id, project_id, slug, name, metadata_json, created_at_ms],
            )
            .map_err(|e| inserted(c, e))?;
            chain::insert(c, ctx, &event)?;
            Ok(())
        })?;
    }
    Ok(Project { org_id, project_id, slug, name, metadata, created_at_ms })
}

fn grant_event<'a>(org_id: &'a str, project_id: Option<&'a str>, actor_id: Option<&'a str>, action: &'a str, team_id: &'a str, at: i64, metadata: Value) -> NewEvent<'a> {
    NewEvent { org_id, project_id, actor_id, action, target_type: "team", target_id: Some(team_id), occurred_at_ms: at, metadata }
}

/// `addProjectTeam`: grants a team a role on a project, or changes the role.
pub fn add_team(conn: &Db, ctx: &RequestContext, req: AddProjectTeam) -> Result<()> {
    let AddProjectTeam { org_id, project_id, team_id, role, created_at_ms } = req;
    let role = role.unwrap_or_else(|| "viewer".into());
    let created_at_ms = created_at_ms.unwrap_or_else(now_ms);
    let parents = Parents { org_id: &org_id, project_id: Some(&project_id), team_id: Some(&team_id) };
    db::write_org(conn, &org_id, |c| {
        orgs::guard(c, &org_id, WriteKind::Create)?;
        c.execute(
            "INSERT INTO _smithers_cp_project_teams (org_id, project_id, team_id, role, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(org_id, project_id, team_id) DO UPDATE SET role = excluded.role",
        params![org_id, project_id, team_id, role, created_at_ms])
        .map_err(|e| parents.explain(c, e))?;
        let event = grant_event(&org_id, Some(&project_id), None, "project.team.upsert", &team_id, created_at_ms, json!({ "role": role }));
        chain::insert(c, ctx, &event)?;
        Ok(())
    })
}

/// Every project of the org by slug (for the export).
pub(crate) fn list(conn: &Db, org_id: &str) -> Result<Vec<Project>> {
    conn.rows(&format!("{SELECT} WHERE org_id = ?1 ORDER BY slug"), params![org_id], from_row)
}

/// `listProjects({orgId, cursor?, limit?})`: by projectId.
pub fn list_page(conn: &Db, _ctx: &RequestContext, req: ListProjects) -> Result<Page<Project>> {
    let ListProjects { org_id, page: PageRequest { limit, cursor } } = req;
    let after = page::text(&cursor, 0)?;
    let rows = conn
        .rows(&format!(
            "{SELECT} WHERE org_id = ?1 AND ({p2} IS NULL OR project_id > ?2) ORDER BY project_id LIMIT ?3",
            p2 = conn.dialect().text_param(2)
        ), params![org_id, after, limit as i64 + 1], from_row)?;
    Ok(page::finish(rows, limit, |p| vec![json!(p.project_id)]))
}

/// `getProject({orgId, projectId})`.
pub fn get(conn: &Db, _ctx: &RequestContext, req: GetProject) -> Result<Option<Project>> {
    Ok(conn
        .row(&format!("{SELECT} WHERE org_id = ?1 AND project_id = ?2"), params![req.org_id, req.project_id], from_row)?)
}

/// `listProjectTeams({orgId, projectId, cursor?, limit?})`: the project's grants by teamId.
pub fn list_teams(conn: &Db, _ctx: &RequestContext, req: ListProjectTeams) -> Result<Page<ProjectTeam>> {
    let ListProjectTeams { org_id, project_id, page: PageRequest { limit, cursor } } = req;
    let after = page::text(&cursor, 0)?;
    let rows = conn
        .rows(
            &format!("SELECT org_id, project_id, team_id, role, created_at_ms FROM _smithers_cp_project_teams
             WHERE org_id = ?1 AND project_id = ?2 AND ({p3} IS NULL OR team_id > ?3) ORDER BY team_id LIMIT ?4", p3 = conn.dialect().text_param(3)),
        params![org_id, project_id, after, limit as i64 + 1], |r| {
            Ok(ProjectTeam { org_id: r.get(0)?, project_id: r.get(1)?, team_id: r.get(2)?, role: r.get(3)?, created_at_ms: r.get(4)? })
        })?;
    Ok(page::finish(rows, limit, |g| vec![json!(g.team_id)]))
}

/// `removeProjectTeam({orgId, projectId, teamId, actorId?, atMs?})`.
pub fn remove_team(conn: &Db, ctx: &RequestContext, req: RemoveProjectTeam) -> Result<()> {
    let RemoveProjectTeam { org_id, project_id, team_id, actor_id, at_ms } = req;
    let at = at_ms.unwrap_or_else(now_ms);
    removal::remove(
        conn,
        ctx,
        Removal {
            what: "project team",
            details: json!({ "orgId": org_id, "projectId": project_id, "teamId": team_id }),
            delete_sql: "DELETE FROM _smithers_cp_project_teams WHERE org_id = ?1 AND project_id = ?2 AND team_id = ?3",
            params: params![org_id, project_id, team_id],
            event: grant_event(&org_id, Some(&project_id), actor_id.as_deref(), "project.team.remove", &team_id, at, json!({})),
        },
    )
}

