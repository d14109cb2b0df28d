//! Teams and team membership.

use crate::chain::{self, NewEvent};
use crate::db;
use crate::error::{is_constraint, Constraint, CpError, Result};
use crate::tenancy::orgs::{self, WriteKind};
use crate::page::{self, Page, PageRequest};
use crate::parents::{self, Parents};
use crate::tenancy::quotas;
use crate::tenancy::removal::{self, not_found, Removal};
use crate::request::{FromInput, RequestContext};
use crate::validate::{now_ms, Input};
use crate::params;
use crate::engine::{Dialect, Row};
use crate::tenancy::create_postgres;
use crate::db::Db;
use serde::Serialize;
use serde_json::{json, Value};
use ts_rs::TS;

#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneTeam")]
pub struct Team {
    pub org_id: String,
    pub team_id: String,
    pub slug: String,
    pub name: String,
    pub created_at_ms: i64,
}

/// A user's membership of a team.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneTeamMember")]
pub struct TeamMember {
    pub org_id: String,
    pub team_id: String,
    pub user_id: String,
    /// The user's role in the team.
    pub role: String,
    pub created_at_ms: i64,
}

/// `createTeam`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneCreateTeamInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct CreateTeam {
    pub org_id: String,
    /// A random UUID when missing or blank.
    pub team_id: Option<String>,
    /// Unique within the org.
    pub slug: String,
    pub name: String,
    /// Now when missing.
    pub created_at_ms: Option<i64>,
}

impl FromInput for CreateTeam {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(CreateTeam {
            org_id: input.id("orgId")?,
            team_id: Some(input.id_or_new("teamId")?),
            slug: input.slug("slug")?,
            name: input.string("name")?,
            created_at_ms: Some(input.timestamp("createdAtMs")?),
        })
    }
}

/// `addTeamMember`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneAddTeamMemberInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct AddTeamMember {
    pub org_id: String,
    pub team_id: String,
    pub user_id: String,
    /// `member` when missing; replaces the role of a member already there.
    pub role: Option<String>,
    /// Now when missing; a member already there keeps its own.
    pub created_at_ms: Option<i64>,
}

impl FromInput for AddTeamMember {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(AddTeamMember {
            org_id: input.id("orgId")?,
            team_id: input.id("teamId")?,
            user_id: input.id("userId")?,
            role: Some(input.string_or("role", "member")?),
            created_at_ms: Some(input.timestamp("createdAtMs")?),
        })
    }
}

/// `listTeams`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneListTeamsInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ListTeams {
    pub org_id: String,
    #[ts(flatten)]
    pub page: PageRequest,
}

impl FromInput for ListTeams {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(ListTeams { org_id: input.id("orgId")?, page: PageRequest::from_input(input)? })
    }
}

/// `getTeam`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneGetTeamInput", rename_all = "camelCase")]
pub struct GetTeam {
    pub org_id: String,
    pub team_id: String,
}

impl FromInput for GetTeam {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(GetTeam { org_id: input.id("orgId")?, team_id: input.id("teamId")? })
    }
}

/// `listTeamMembers`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneListTeamMembersInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ListTeamMembers {
    pub org_id: String,
    pub team_id: String,
    #[ts(flatten)]
    pub page: PageRequest,
}

impl FromInput for ListTeamMembers {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(ListTeamMembers { org_id: input.id("orgId")?, team_id: input.id("teamId")?, page: PageRequest::from_input(input)? })
    }
}

/// `removeTeamMember`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneRemoveTeamMemberInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct RemoveTeamMember {
    pub org_id: String,
    pub team_id: String,
    pub user_id: String,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub at_ms: Option<i64>,
}

impl FromInput for RemoveTeamMember {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(RemoveTeamMember {
            org_id: input.id("orgId")?,
            team_id: input.id("teamId")?,
            user_id: input.id("userId")?,
            actor_id: input.opt_id("actorId")?,
            at_ms: Some(input.timestamp("atMs")?),
        })
    }
}

/// `deleteTeam`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneDeleteTeamInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct DeleteTeam {
    pub org_id: String,
    pub team_id: String,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub at_ms: Option<i64>,
}

impl FromInput for DeleteTeam {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(DeleteTeam {
            org_id: input.id("orgId")?,
            team_id: input.id("teamId")?,
            actor_id: input.opt_id("actorId")?,
            at_ms: Some(input.timestamp("atMs")?),
        })
    }
}

const SELECT: &str = "SELECT org_id, team_id, slug, name, created_at_ms FROM _smithers_cp_teams";

fn from_row(r: &dyn Row) -> Result<Team> {
    Ok(Team { org_id: r.get(0)?, team_id: r.get(1)?, slug: r.get(2)?, name: r.get(3)?, created_at_ms: r.get(4)? })
}

fn team_event<'a>(org_id: &'a str, actor_id: Option<&'a str>, action: &'a str, team_id: &'a str, at: i64, metadata: Value) -> NewEvent<'a> {
    NewEvent { org_id, project_id: None, actor_id, action, target_type: "team", target_id: Some(team_id), occurred_at_ms: at, metadata }
}

/// `createTeam`: the team and its `team.create` event, within the org's team quota.
pub fn create(conn: &Db, ctx: &RequestContext, req: CreateTeam) -> Result<Team> {
    let team = Team {
        org_id: req.org_id,
        team_id: req.team_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        slug: req.slug,
        name: req.name,
        created_at_ms: req.created_at_ms.unwrap_or_else(now_ms),
    };
    let inserted = |c: &Db, e: CpError| {
        if is_constraint(&e, Constraint::Unique) {
            CpError::duplicate("team", "slug", &team.slug, Some(&team.org_id))
        } else if is_constraint(&e, Constraint::PrimaryKey) {
            CpError::duplicate("team", "id", &team.team_id, Some(&team.org_id))
        } else {
            Parents::org(&team.org_id).explain(c, e)
        }
    };
    let event = team_event(&team.org_id, None, "team.create", &team.team_id, team.created_at_ms, json!({}));
    if conn.dialect() == Dialect::Postgres {
        // One round trip: the server's `_smithers_cp_create` (`create_postgres`).
        let row = json!({ "org_id": team.org_id, "team_id": team.team_id, "slug": team.slug, "name": team.name,
                          "created_at_ms": team.created_at_ms });
        let Value::Object(row) = row else { unreachable!("a JSON object") };
        create_postgres::create(conn, ctx, "_smithers_cp_teams", row, Some(&quotas::TEAMS), &event, |e| inserted(conn, e))?;
    } else {
        db::write_org(conn, &team.org_id, |c| {
            orgs::guard(c, &team.org_id, WriteKind::Create)?;
            quotas::check(c, &quotas::TEAMS, &team.org_id, None)?;
            c.execute(
                "INSERT INTO _smithers_cp_teams (org_id, team_id, slug, name, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![team.org_id, team.team_id, team.slug, team.name, team.created_at_ms],
            )
            .map_err(|e| inserted(c, e))?;
            chain::insert(c, ctx, &event)?;
            Ok(())
        })?;
    }
    Ok(team)
}

/// `addTeamMember`: inserts the member or updates its role.
pub fn add_member(conn: &Db, ctx: &RequestContext, req: AddTeamMember) -> Result<()> {
    let AddTeamMember { org_id, team_id, user_id, role, created_at_ms } = req;
    let role = role.unwrap_or_else(|| "member".into());
    let created_at_ms = created_at_ms.unwrap_or_else(now_ms);
    let parents = Parents { org_id: &org_id, project_id: None, team_id: Some(&team_id) };
    db::write_org(conn, &org_id, |c| {
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
        let event = team_event(&org_id, Some(&user_id), "team.member.upsert", &team_id, created_at_ms, json!({ "role": role }));
        chain::insert(c, ctx, &event)?;
        Ok(())
    })
}

/// Every team of the org by slug (for the export).
pub(crate) fn list(conn: &Db, org_id: &str) -> Result<Vec<Team>> {
    conn.rows(&format!("{SELECT} WHERE org_id = ?1 ORDER BY slug"), params![org_id], from_row)
}

/// `listTeams({orgId, cursor?, limit?})`: by teamId.
pub fn list_page(conn: &Db, _ctx: &RequestContext, req: ListTeams) -> Result<Page<Team>> {
    let ListTeams { org_id, page: PageRequest { limit, cursor } } = req;
    let after = page::text(&cursor, 0)?;
    let rows = conn
        .rows(&format!("{SELECT} WHERE org_id = ?1 AND ({p2} IS NULL OR team_id > ?2) ORDER BY team_id LIMIT ?3", p2 = conn.dialect().text_param(2)), params![org_id, after, limit as i64 + 1], from_row)?;
    Ok(page::finish(rows, limit, |t| vec![json!(t.team_id)]))
}

/// `getTeam({orgId, teamId})`.
pub fn get(conn: &Db, _ctx: &RequestContext, req: GetTeam) -> Result<Option<Team>> {
    Ok(conn
        .row(&format!("{SELECT} WHERE org_id = ?1 AND team_id = ?2"), params![req.org_id, req.team_id], from_row)?)
}

/// `listTeamMembers({orgId, teamId, cursor?, limit?})`: by userId.
pub fn list_members(conn: &Db, _ctx: &RequestContext, req: ListTeamMembers) -> Result<Page<TeamMember>> {
    let ListTeamMembers { org_id, team_id, page: PageRequest { limit, cursor } } = req;
    let after = page::text(&cursor, 0)?;
    let rows = conn
        .rows(
            &format!("SELECT org_id, team_id, user_id, role, created_at_ms FROM _smithers_cp_team_members
             WHERE org_id = ?1 AND team_id = ?2 AND ({p3} IS NULL OR user_id > ?3) ORDER BY user_id LIMIT ?4", p3 = conn.dialect().text_param(3)),
        params![org_id, team_id, after, limit as i64 + 1], |r| {
            Ok(TeamMember { org_id: r.get(0)?, team_id: r.get(1)?, user_id: r.get(2)?, role: r.get(3)?, created_at_ms: r.get(4)? })
        })?;
    Ok(page::finish(rows, limit, |m| vec![json!(m.user_id)]))
}

/// `removeTeamMember({orgId, teamId, userId, actorId?, atMs?})`.
pub fn remove_member(conn: &Db, ctx: &RequestContext, req: RemoveTeamMember) -> Result<()> {
    let RemoveTeamMember { org_id, team_id, user_id, actor_id, at_ms } = req;
    let at = at_ms.unwrap_or_else(now_ms);
    removal::remove(
        conn,
        ctx,
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
pub fn delete(conn: &Db, ctx: &RequestContext, req: DeleteTeam) -> Result<()> {
    let DeleteTeam { org_id, team_id, actor_id, at_ms } = req;
    let at = at_ms.unwrap_or_else(now_ms);
    db::write_org(conn, &org_id, |c| {
        orgs::guard(c, &org_id, WriteKind::Other)?;
        if !parents::team_exists(c, &org_id, &team_id)? {
            return Err(not_found("team", json!({ "orgId": org_id, "teamId": team_id })));
        }
        c.execute("DELETE FROM _smithers_cp_teams WHERE org_id = ?1 AND team_id = ?2", params![org_id, team_id])?;
        chain::insert(c, ctx, &team_event(&org_id, actor_id.as_deref(), "team.delete", &team_id, at, json!({})))?;
        Ok(())
    })
}
