//! Orgs, teams, projects, access, quotas and removal.

use crate::binding::call::{self, Given::*};
use crate::binding::input;
use crate::binding::scope::OrgScope;
use crate::binding::store::ControlPlaneStore;
use crate::binding::env_data::to_js;
use control_plane_core::tenancy::orgs;
use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue, Result};
use napi_derive::napi;
use serde_json::json;

/// `getOrg(orgId)` and `getOrgBySlug(slug)` take the value itself: `{field: value}`.
fn one_field(env: &Env, value: Unknown, field: &str) -> Result<serde_json::Value> {
    let value = input::read_field(env, value.raw(), field).map_err(|e| to_js(env, e))?;
    Ok(json!({ field: value }))
}

#[napi]
impl ControlPlaneStore {
    #[napi(ts_args_type = "input: ControlPlaneCreateOrgInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneOrg")]
    pub fn create_org<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, orgs::create)
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
}

#[napi]
impl OrgScope {
    /// `getOrg` of this handle's org.
    #[napi(ts_return_type = "ControlPlaneOrg | null")]
    pub fn get_org<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        call::run(self, env, &self.org_input(), orgs::get_org)
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
}
