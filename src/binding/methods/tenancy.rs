//! Orgs, teams, projects, access and quotas.

use crate::binding::call::{self, Given::*};
use crate::binding::input::{self, Read};
use crate::binding::scope::OrgScope;
use crate::binding::store::ControlPlaneStore;
use crate::binding::env_data::to_js;
use control_plane_core::tenancy::{access, orgs, projects, quotas, teams};
use napi::bindgen_prelude::Unknown;
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::json;

/// `getOrg(orgId)` and `getOrgBySlug(slug)` take the value itself: `{field: value}`.
fn one_field(env: &Env, value: Unknown, field: &str) -> Result<Read> {
    let value = input::read_field(env, value, field).map_err(|e| to_js(env, e))?;
    Ok(json!({ field: value }).into())
}

#[napi]
impl ControlPlaneStore {
    #[napi(ts_args_type = "input: ControlPlaneCreateOrgInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneOrg")]
    pub fn create_org<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::built(self, env, input, Required, orgs::create)
    }

    /// Also a deleted org, with its status.
    #[napi(ts_args_type = "orgId: string", ts_return_type = "ControlPlaneOrg | null")]
    pub fn get_org<'e>(&self, env: &'e Env, org_id: Unknown) -> Result<Unknown<'e>> {
        call::run(self, env, &one_field(env, org_id, "orgId")?, orgs::get_org)
    }

    #[napi(ts_args_type = "slug: string", ts_return_type = "ControlPlaneOrg | null")]
    pub fn get_org_by_slug<'e>(&self, env: &'e Env, slug: Unknown) -> Result<Unknown<'e>> {
        call::run(self, env, &one_field(env, slug, "slug")?, orgs::get_by_slug)
    }

    /// By orgId; deleted orgs only with `status: "deleted"`.
    #[napi(ts_args_type = "input?: ControlPlaneListOrgsInput", ts_return_type = "ControlPlanePage<ControlPlaneOrg>")]
    pub fn list_orgs<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, orgs::list)
    }

    /// Refuses new resources while suspended; usage, audit, billing and reads go on.
    #[napi(ts_args_type = "input: ControlPlaneSuspendOrgInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneOrg")]
    pub fn suspend_org<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, orgs::suspend)
    }

    #[napi(ts_args_type = "input: ControlPlaneUnsuspendOrgInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneOrg")]
    pub fn unsuspend_org<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, orgs::unsuspend)
    }

    /// `soft` (the default) marks the org deleted; `hard` removes every row of it.
    #[napi(ts_args_type = "input: ControlPlaneDeleteOrgInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneOrgDeletion")]
    pub fn delete_org<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, orgs::delete)
    }

    #[napi(ts_args_type = "input: ControlPlaneCreateTeamInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneTeam")]
    pub fn create_team<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, teams::create)
    }

    /// Adds the user to the team, or changes their role.
    #[napi(ts_args_type = "input: ControlPlaneAddTeamMemberInput & ControlPlaneRequestOrigin")]
    pub fn add_team_member(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, teams::add_member)
    }

    /// By teamId.
    #[napi(ts_args_type = "input?: ControlPlaneListTeamsInput", ts_return_type = "ControlPlanePage<ControlPlaneTeam>")]
    pub fn list_teams<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, teams::list_page)
    }

    #[napi(ts_args_type = "input?: ControlPlaneGetTeamInput", ts_return_type = "ControlPlaneTeam | null")]
    pub fn get_team<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, teams::get)
    }

    /// By userId.
    #[napi(ts_args_type = "input?: ControlPlaneListTeamMembersInput", ts_return_type = "ControlPlanePage<ControlPlaneTeamMember>")]
    pub fn list_team_members<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, teams::list_members)
    }

    /// `NOT_FOUND` when the user is not in the team.
    #[napi(ts_args_type = "input: ControlPlaneRemoveTeamMemberInput & ControlPlaneRequestOrigin")]
    pub fn remove_team_member(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, teams::remove_member)
    }

    /// With its members and project grants; `NOT_FOUND` when there is no such team.
    #[napi(ts_args_type = "input: ControlPlaneDeleteTeamInput & ControlPlaneRequestOrigin")]
    pub fn delete_team(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, teams::delete)
    }

    #[napi(ts_args_type = "input: ControlPlaneCreateProjectInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneProject")]
    pub fn create_project<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, projects::create)
    }

    /// Grants the team a role on the project, or changes it.
    #[napi(ts_args_type = "input: ControlPlaneAddProjectTeamInput & ControlPlaneRequestOrigin")]
    pub fn add_project_team(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, projects::add_team)
    }

    /// By projectId.
    #[napi(ts_args_type = "input?: ControlPlaneListProjectsInput", ts_return_type = "ControlPlanePage<ControlPlaneProject>")]
    pub fn list_projects<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, projects::list_page)
    }

    #[napi(ts_args_type = "input?: ControlPlaneGetProjectInput", ts_return_type = "ControlPlaneProject | null")]
    pub fn get_project<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, projects::get)
    }

    /// The project's grants, by teamId.
    #[napi(ts_args_type = "input?: ControlPlaneListProjectTeamsInput", ts_return_type = "ControlPlanePage<ControlPlaneProjectTeam>")]
    pub fn list_project_teams<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, projects::list_teams)
    }

    /// `NOT_FOUND` when the team has no grant on the project.
    #[napi(ts_args_type = "input: ControlPlaneRemoveProjectTeamInput & ControlPlaneRequestOrigin")]
    pub fn remove_project_team(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, projects::remove_team)
    }

    /// With everything it holds; `NOT_FOUND` when there is no such project.
    #[napi(ts_args_type = "input: ControlPlaneDeleteProjectInput & ControlPlaneRequestOrigin")]
    pub fn delete_project(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, projects::delete)
    }

    /// Every project the user reaches through their teams, by projectId.
    #[napi(ts_args_type = "input?: ControlPlaneListProjectAccessInput", ts_return_type = "ControlPlaneProjectAccess[]")]
    pub fn list_project_access<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, access::list)
    }

    /// Empty `roles` and `grants` when the user has no access.
    #[napi(ts_args_type = "input?: ControlPlaneGetProjectAccessInput", ts_return_type = "ControlPlaneProjectAccess")]
    pub fn get_project_access<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, access::get)
    }

    /// Sets the limits given (a number, or `null` for none) and keeps the others.
    #[napi(ts_args_type = "input?: ControlPlaneSetOrgQuotaInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneOrgQuota")]
    pub fn set_org_quota<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, quotas::set)
    }

    #[napi(ts_args_type = "input?: ControlPlaneOrgRef", ts_return_type = "ControlPlaneOrgQuota")]
    pub fn get_org_quota<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, quotas::get)
    }
}

#[napi]
impl OrgScope {
    /// `getOrg` of this handle's org.
    #[napi(ts_return_type = "ControlPlaneOrg | null")]
    pub fn get_org<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        call::run(self, env, &self.org_input().into(), orgs::get_org)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneSuspendOrgInput>", ts_return_type = "ControlPlaneOrg")]
    pub fn suspend_org<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, orgs::suspend)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneUnsuspendOrgInput>", ts_return_type = "ControlPlaneOrg")]
    pub fn unsuspend_org<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, orgs::unsuspend)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneDeleteOrgInput>", ts_return_type = "ControlPlaneOrgDeletion")]
    pub fn delete_org<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, orgs::delete)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneCreateTeamInput>", ts_return_type = "ControlPlaneTeam")]
    pub fn create_team<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, teams::create)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneAddTeamMemberInput>")]
    pub fn add_team_member(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, teams::add_member)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneListTeamsInput>", ts_return_type = "ControlPlanePage<ControlPlaneTeam>")]
    pub fn list_teams<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, teams::list_page)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneGetTeamInput>", ts_return_type = "ControlPlaneTeam | null")]
    pub fn get_team<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, teams::get)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneListTeamMembersInput>", ts_return_type = "ControlPlanePage<ControlPlaneTeamMember>")]
    pub fn list_team_members<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, teams::list_members)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneRemoveTeamMemberInput>")]
    pub fn remove_team_member(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, teams::remove_member)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneDeleteTeamInput>")]
    pub fn delete_team(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, teams::delete)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneCreateProjectInput>", ts_return_type = "ControlPlaneProject")]
    pub fn create_project<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, projects::create)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneAddProjectTeamInput>")]
    pub fn add_project_team(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, projects::add_team)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneListProjectsInput>", ts_return_type = "ControlPlanePage<ControlPlaneProject>")]
    pub fn list_projects<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, projects::list_page)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneGetProjectInput>", ts_return_type = "ControlPlaneProject | null")]
    pub fn get_project<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, projects::get)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneListProjectTeamsInput>", ts_return_type = "ControlPlanePage<ControlPlaneProjectTeam>")]
    pub fn list_project_teams<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, projects::list_teams)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneRemoveProjectTeamInput>")]
    pub fn remove_project_team(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, projects::remove_team)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneDeleteProjectInput>")]
    pub fn delete_project(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, projects::delete)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneListProjectAccessInput>", ts_return_type = "ControlPlaneProjectAccess[]")]
    pub fn list_project_access<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, access::list)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneGetProjectAccessInput>", ts_return_type = "ControlPlaneProjectAccess")]
    pub fn get_project_access<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, access::get)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneSetOrgQuotaInput>", ts_return_type = "ControlPlaneOrgQuota")]
    pub fn set_org_quota<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, quotas::set)
    }

    /// `getOrgQuota` of this handle's org.
    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneOrgRef>", ts_return_type = "ControlPlaneOrgQuota")]
    pub fn get_org_quota<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, quotas::get)
    }
}
