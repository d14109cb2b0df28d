//! The store's methods by name: JSON input in, JSON output out. This is the whole surface
//! the binding sees, so a new method is added here and in the JavaScript wrapper only.

use crate::error::{CpError, Result};
use crate::request::FromInput;
use crate::validate::Input;
use crate::audit;
use crate::settings::{billing, identity, secrets};
use crate::tenancy::{access, projects, quotas, teams};
use crate::db::Db;
use serde::Serialize;
use serde_json::Value;

fn json<T: Serialize>(value: T) -> Result<String> {
    serde_json::to_string(&value).map_err(|e| CpError::new("INTERNAL", format!("serialising a result: {e}"), None))
}

/// The names `call` accepts: the documented store's methods first, then ours.
pub const METHODS: &[&str] = &[
    "createTeam",
    "addTeamMember",
    "createProject",
    "addProjectTeam",
    "upsertBillingAccount",
    "upsertIdentityProvider",
    "listIdentityProviders",
    "putSecretRef",
    "listSecretRefs",
    "listTeams",
    "getTeam",
    "listTeamMembers",
    "listProjects",
    "getProject",
    "listProjectTeams",
    "getBillingAccount",
    "removeTeamMember",
    "removeProjectTeam",
    "deleteTeam",
    "deleteProject",
    "deleteIdentityProvider",
    "deleteSecretRef",
    "listProjectAccess",
    "getProjectAccess",
    "setOrgQuota",
    "getOrgQuota",
];

/// Runs one store method on a parsed input, its request context (`actorId`, `ipAddress`,
/// `userAgent`, `requestId`) on every audit event it writes. Methods with no result return
/// `null`.
pub fn call_value(conn: &Db, method: &str, input: &Value) -> Result<String> {
    let input = Input::new(input)?;
    let context = audit::RequestContext::from_input(&input)?;
    audit::with_context(context, || run(conn, method, &input))
}

/// Runs one store method on its validated-as-an-object input.
fn run(conn: &Db, method: &str, input: &Input) -> Result<String> {
    match method {
        "createTeam" => json(teams::create(conn, input)?),
        "addTeamMember" => json(teams::add_member(conn, input)?),
        "createProject" => json(projects::create(conn, input)?),
        "addProjectTeam" => json(projects::add_team(conn, input)?),
        "upsertBillingAccount" => json(billing::upsert(conn, input)?),
        "upsertIdentityProvider" => json(identity::upsert(conn, input)?),
        "listIdentityProviders" => json(identity::list(conn, input)?),
        "putSecretRef" => json(secrets::put(conn, input)?),
        "listSecretRefs" => json(secrets::list(conn, input)?),
        "listTeams" => json(teams::list_page(conn, input)?),
        "getTeam" => json(teams::get(conn, input)?),
        "listTeamMembers" => json(teams::list_members(conn, input)?),
        "listProjects" => json(projects::list_page(conn, input)?),
        "getProject" => json(projects::get(conn, input)?),
        "listProjectTeams" => json(projects::list_teams(conn, input)?),
        "getBillingAccount" => json(billing::get_input(conn, input)?),
        "removeTeamMember" => json(teams::remove_member(conn, input)?),
        "removeProjectTeam" => json(projects::remove_team(conn, input)?),
        "deleteTeam" => json(teams::delete(conn, input)?),
        "deleteProject" => json(projects::delete(conn, input)?),
        "deleteIdentityProvider" => json(identity::delete(conn, input)?),
        "deleteSecretRef" => json(secrets::delete(conn, input)?),
        "listProjectAccess" => json(access::list(conn, input)?),
        "getProjectAccess" => json(access::get(conn, input)?),
        "setOrgQuota" => json(quotas::set(conn, input)?),
        "getOrgQuota" => json(quotas::get(conn, input)?),
        _ => Err(CpError::invalid(format!("Unknown control-plane method: {method}"), None)),
    }
}

/// Runs one store method on its JSON input text: the text parsed, then the same path as a
/// value read from JavaScript (`call_value`). For Rust callers and the fuzz target.
pub fn call(conn: &Db, method: &str, input_json: &str) -> Result<String> {
    let input: Value = serde_json::from_str(input_json)
        .map_err(|e| CpError::field("input", format!("input is not valid JSON: {e}")))?;
    call_value(conn, method, &input)
}
