//! Access resolution for a gateway's authorization: which projects a user reaches through
//! the teams they belong to, and with which roles.

use crate::error::Result;
use crate::request::{FromInput, RequestContext};
use crate::validate::Input;
use crate::params;
use crate::db::Db;
use serde::Serialize;
use ts_rs::TS;

/// One team through which a user reaches a project.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneAccessGrant")]
pub struct Grant {
    pub team_id: String,
    /// The role the team holds on the project.
    pub role: String,
    /// The user's role in the team.
    pub member_role: String,
}

/// What a user may do on a project, through the teams they belong to.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneProjectAccess")]
pub struct ProjectAccess {
    pub org_id: String,
    pub project_id: String,
    pub user_id: String,
    /// The distinct project roles granted, sorted.
    pub roles: Vec<String>,
    pub grants: Vec<Grant>,
}

/// `listProjectAccess`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneListProjectAccessInput", rename_all = "camelCase")]
pub struct ListProjectAccess {
    pub org_id: String,
    pub user_id: String,
}

impl FromInput for ListProjectAccess {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(ListProjectAccess { org_id: input.id("orgId")?, user_id: input.id("userId")? })
    }
}

/// `getProjectAccess`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneGetProjectAccessInput", rename_all = "camelCase")]
pub struct GetProjectAccess {
    pub org_id: String,
    pub project_id: String,
    pub user_id: String,
}

impl FromInput for GetProjectAccess {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(GetProjectAccess { org_id: input.id("orgId")?, project_id: input.id("projectId")?, user_id: input.id("userId")? })
    }
}

fn resolve(conn: &Db, org_id: &str, user_id: &str, project_id: Option<&str>) -> Result<Vec<ProjectAccess>> {
    let rows = conn.rows(
        &format!("SELECT pt.project_id, pt.team_id, pt.role, m.role AS member_role
         FROM _smithers_cp_team_members AS m
         JOIN _smithers_cp_project_teams AS pt ON pt.org_id = m.org_id AND pt.team_id = m.team_id
         WHERE m.org_id = ?1 AND m.user_id = ?2 AND ({p3} IS NULL OR pt.project_id = ?3)
         ORDER BY pt.project_id, pt.team_id", p3 = conn.dialect().text_param(3)),
        params![org_id, user_id, project_id],
        |r| Ok((r.get::<String>(0)?, Grant { team_id: r.get(1)?, role: r.get(2)?, member_role: r.get(3)? })),
    )?;
    let mut out: Vec<ProjectAccess> = Vec::new();
    for (project_id, grant) in rows {
        if out.last().map(|a| a.project_id != project_id).unwrap_or(true) {
            out.push(ProjectAccess {
                org_id: org_id.to_string(),
                project_id,
                user_id: user_id.to_string(),
                roles: Vec::new(),
                grants: Vec::new(),
            });
        }
        let access = out.last_mut().expect("pushed above");
        if !access.roles.contains(&grant.role) {
            access.roles.push(grant.role.clone());
            access.roles.sort();
        }
        access.grants.push(grant);
    }
    Ok(out)
}

/// `listProjectAccess({orgId, userId})`: every project the user reaches, by projectId.
pub fn list(conn: &Db, _ctx: &RequestContext, req: ListProjectAccess) -> Result<Vec<ProjectAccess>> {
    resolve(conn, &req.org_id, &req.user_id, None)
}

/// `getProjectAccess({orgId, projectId, userId})`: empty `roles` and `grants` when none.
pub fn get(conn: &Db, _ctx: &RequestContext, req: GetProjectAccess) -> Result<ProjectAccess> {
    let GetProjectAccess { org_id, project_id, user_id } = req;
    Ok(resolve(conn, &org_id, &user_id, Some(&project_id))?.pop().unwrap_or(ProjectAccess {
        org_id,
        project_id,
        user_id,
        roles: Vec::new(),
        grants: Vec::new(),
    }))
}
