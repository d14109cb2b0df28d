//! Orgs, teams, projects, access and quotas.

use control_plane_core::deletion;
use control_plane_core::tenancy::{access, orgs, projects, quotas, teams};

crate::binding::declare::operations! {
    createOrg: gathered Input Required orgs::create, [Store Async],
        "input: ControlPlaneCreateOrgInput & ControlPlaneRequestOrigin" => "ControlPlaneOrg";
    /// Also a deleted org, with its status.
    getOrg: value OrgId Required orgs::get_org, [Store Scope Async],
        "orgId: string" => "ControlPlaneOrg | null";
    getOrgBySlug: value Slug Required orgs::get_by_slug, [Store Async],
        "slug: string" => "ControlPlaneOrg | null";
    /// By orgId; deleted orgs only with `status: "deleted"`.
    listOrgs: value Input Optional orgs::list, [Store Async],
        "input?: ControlPlaneListOrgsInput" => "ControlPlanePage<ControlPlaneOrg>";
    /// Refuses new resources while suspended; usage, audit, billing and reads go on.
    suspendOrg: value Input Optional orgs::suspend, [Store Scope Async],
        "input: ControlPlaneSuspendOrgInput & ControlPlaneRequestOrigin" => "ControlPlaneOrg";
    unsuspendOrg: value Input Optional orgs::unsuspend, [Store Scope Async],
        "input: ControlPlaneUnsuspendOrgInput & ControlPlaneRequestOrigin" => "ControlPlaneOrg";
    /// `soft` (the default) marks the org deleted; `hard` removes every row of it.
    deleteOrg: value Input Optional orgs::delete, [Store Scope Async],
        "input: ControlPlaneDeleteOrgInput & ControlPlaneRequestOrigin" => "ControlPlaneOrgDeletion";
    createTeam: value Input Required teams::create, [Store Scope Async],
        "input: ControlPlaneCreateTeamInput & ControlPlaneRequestOrigin" => "ControlPlaneTeam";
    /// Adds the user to the team, or changes their role.
    addTeamMember: void Input Required teams::add_member, [Store Scope Async],
        "input: ControlPlaneAddTeamMemberInput & ControlPlaneRequestOrigin" => "void";
    /// By teamId.
    listTeams: value Input Optional teams::list_page, [Store Scope Async],
        "input?: ControlPlaneListTeamsInput" => "ControlPlanePage<ControlPlaneTeam>";
    getTeam: value Input Optional teams::get, [Store Scope Async],
        "input?: ControlPlaneGetTeamInput" => "ControlPlaneTeam | null";
    /// By userId.
    listTeamMembers: value Input Optional teams::list_members, [Store Scope Async],
        "input?: ControlPlaneListTeamMembersInput" => "ControlPlanePage<ControlPlaneTeamMember>";
    /// `NOT_FOUND` when the user is not in the team.
    removeTeamMember: void Input Required teams::remove_member, [Store Scope Async],
        "input: ControlPlaneRemoveTeamMemberInput & ControlPlaneRequestOrigin" => "void";
    /// With its members and project grants; `NOT_FOUND` when there is no such team.
    deleteTeam: void Input Required teams::delete, [Store Scope Async],
        "input: ControlPlaneDeleteTeamInput & ControlPlaneRequestOrigin" => "void";
    createProject: value Input Required projects::create, [Store Scope Async],
        "input: ControlPlaneCreateProjectInput & ControlPlaneRequestOrigin" => "ControlPlaneProject";
    /// Grants the team a role on the project, or changes it.
    addProjectTeam: void Input Required projects::add_team, [Store Scope Async],
        "input: ControlPlaneAddProjectTeamInput & ControlPlaneRequestOrigin" => "void";
    /// By projectId.
    listProjects: value Input Optional projects::list_page, [Store Scope Async],
        "input?: ControlPlaneListProjectsInput" => "ControlPlanePage<ControlPlaneProject>";
    getProject: value Input Optional projects::get, [Store Scope Async],
        "input?: ControlPlaneGetProjectInput" => "ControlPlaneProject | null";
    /// The project's grants, by teamId.
    listProjectTeams: value Input Optional projects::list_teams, [Store Scope Async],
        "input?: ControlPlaneListProjectTeamsInput" => "ControlPlanePage<ControlPlaneProjectTeam>";
    /// `NOT_FOUND` when the team has no grant on the project.
    removeProjectTeam: void Input Required projects::remove_team, [Store Scope Async],
        "input: ControlPlaneRemoveProjectTeamInput & ControlPlaneRequestOrigin" => "void";
    /// With everything it holds; `NOT_FOUND` when there is no such project.
    deleteProject: void Input Required deletion::delete_project, [Store Scope Async],
        "input: ControlPlaneDeleteProjectInput & ControlPlaneRequestOrigin" => "void";
    /// Every project the user reaches through their teams, by projectId.
    listProjectAccess: value Input Optional access::list, [Store Scope Async],
        "input?: ControlPlaneListProjectAccessInput" => "ControlPlaneProjectAccess[]";
    /// Empty `roles` and `grants` when the user has no access.
    getProjectAccess: value Input Optional access::get, [Store Scope Async],
        "input?: ControlPlaneGetProjectAccessInput" => "ControlPlaneProjectAccess";
    /// Sets the limits given (a number, or `null` for none) and keeps the others.
    setOrgQuota: value Input Optional quotas::set, [Store Scope Async],
        "input?: ControlPlaneSetOrgQuotaInput & ControlPlaneRequestOrigin" => "ControlPlaneOrgQuota";
    getOrgQuota: value Input Optional quotas::get, [Store Scope Async],
        "input?: ControlPlaneOrgRef" => "ControlPlaneOrgQuota";
}
