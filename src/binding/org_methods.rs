//! The methods of one org, defined once for both classes that have them: the store
//! (`ControlPlaneStore`, the input as given) and the handle scoped to one org (`OrgScope`,
//! the org put in by the handle). Each class says how it reads an input (`Inputs`); the
//! macro writes one napi-rs method per method name, which is its JS method, its dispatch
//! and its entry in the generated types.

use super::env_data::{parse_json, to_js};
use control_plane_core::store;
use napi::bindgen_prelude::Unknown;
use napi::{Env, Result};
use serde_json::Value;

pub use super::call::Inputs;
use super::call::Given;

fn given(required: bool) -> Given {
    if required {
        Given::Required
    } else {
        Given::Optional
    }
}

pub fn value<'a, C: Inputs>(class: &'a C, env: &Env, method: &str, input: Option<Unknown>, required: bool) -> Result<Unknown<'a>> {
    let input = class.input(env, input, given(required))?;
    run_value(class, env, method, input)
}

pub fn run_value<'a, C: Inputs>(class: &'a C, env: &Env, method: &str, input: Value) -> Result<Unknown<'a>> {
    let text = class.backend().run(env, |db| store::call_value(db, method, &input)).map_err(|e| to_js(env, e))?;
    // The JS value lives for this call only, in which napi-rs hands it straight back to JS;
    // the generated methods take their `Env` by value, so the result is tied to the class.
    let env: &Env = unsafe { &*(env as *const Env) };
    parse_json(env, &text)
}

pub fn void<C: Inputs>(class: &C, env: &Env, method: &str, input: Option<Unknown>) -> Result<()> {
    let input = class.input(env, input, Given::Required)?;
    class.backend().run(env, |db| store::call_value(db, method, &input)).map(|_| ()).map_err(|e| to_js(env, e))
}

/// One napi-rs method per name, in three shapes: a result (`required`: the documented
/// store's, whose input must be given; `optional`: a missing input is `{}`) or `undefined`
/// (`void`).
macro_rules! org_methods {
    ($class:ident {
        required: [$($required:ident = $required_js:literal),* $(,)?],
        optional: [$($optional:ident = $optional_js:literal),* $(,)?],
        void: [$($void:ident = $void_js:literal),* $(,)?] $(,)?
    }) => {
        #[napi_derive::napi]
        impl $class {
            $(
                #[napi]
                pub fn $required(&self, env: napi::Env, input: Option<napi::bindgen_prelude::Unknown>) -> napi::Result<napi::bindgen_prelude::Unknown<'_>> {
                    $crate::binding::org_methods::value(self, &env, $required_js, input, true)
                }
            )*
            $(
                #[napi]
                pub fn $optional(&self, env: napi::Env, input: Option<napi::bindgen_prelude::Unknown>) -> napi::Result<napi::bindgen_prelude::Unknown<'_>> {
                    $crate::binding::org_methods::value(self, &env, $optional_js, input, false)
                }
            )*
            $(
                #[napi]
                pub fn $void(&self, env: napi::Env, input: Option<napi::bindgen_prelude::Unknown>) -> napi::Result<()> {
                    $crate::binding::org_methods::void(self, &env, $void_js, input)
                }
            )*
        }
    };
}

/// The org-level methods, for `org_methods!`.
macro_rules! for_each_org_method {
    ($class:ident) => {
        $crate::binding::org_methods::org_methods!($class {
            required: [
                create_team = "createTeam",
                create_project = "createProject",
                upsert_billing_account = "upsertBillingAccount",
                upsert_identity_provider = "upsertIdentityProvider",
                list_identity_providers = "listIdentityProviders",
                put_secret_ref = "putSecretRef",
                list_secret_refs = "listSecretRefs",
            ],
            optional: [
                list_teams = "listTeams",
                get_team = "getTeam",
                list_team_members = "listTeamMembers",
                list_projects = "listProjects",
                get_project = "getProject",
                list_project_teams = "listProjectTeams",
                get_billing_account = "getBillingAccount",
                list_project_access = "listProjectAccess",
                get_project_access = "getProjectAccess",
                set_org_quota = "setOrgQuota",
                get_org_quota = "getOrgQuota",
            ],
            void: [
                add_team_member = "addTeamMember",
                add_project_team = "addProjectTeam",
                remove_team_member = "removeTeamMember",
                remove_project_team = "removeProjectTeam",
                delete_team = "deleteTeam",
                delete_project = "deleteProject",
                delete_identity_provider = "deleteIdentityProvider",
                delete_secret_ref = "deleteSecretRef",
            ],
        });
    };
}

pub(crate) use {for_each_org_method, org_methods};
