//! An org's settings: its billing account, identity providers and secret references.

use crate::binding::call::{self, Given::*};
use crate::binding::scope::OrgScope;
use crate::binding::store::ControlPlaneStore;
use control_plane_core::settings::{billing, identity, secrets};
use napi::bindgen_prelude::Unknown;
use napi::{Env, Result};
use napi_derive::napi;

#[napi]
impl ControlPlaneStore {
    /// The org's one billing account, created or replaced.
    #[napi(ts_args_type = "input: ControlPlaneUpsertBillingAccountInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneBillingAccount")]
    pub fn upsert_billing_account<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, billing::upsert)
    }

    #[napi(ts_args_type = "input?: ControlPlaneOrgRef", ts_return_type = "ControlPlaneBillingAccount | null")]
    pub fn get_billing_account<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, billing::get_account)
    }

    /// An update replaces every field but keeps the first `createdAtMs`.
    #[napi(ts_args_type = "input: ControlPlaneUpsertIdentityProviderInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneIdentityProvider")]
    pub fn upsert_identity_provider<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, identity::upsert)
    }

    /// By providerId.
    #[napi(ts_args_type = "input: ControlPlaneListIdentityProvidersInput", ts_return_type = "ControlPlaneIdentityProvider[]")]
    pub fn list_identity_providers<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, identity::list)
    }

    /// `NOT_FOUND` when there is no such provider.
    #[napi(ts_args_type = "input: ControlPlaneDeleteIdentityProviderInput & ControlPlaneRequestOrigin")]
    pub fn delete_identity_provider(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, identity::delete)
    }

    /// Stores the reference (never a secret's value), replacing the one of the same name
    /// in its scope.
    #[napi(ts_args_type = "input: ControlPlanePutSecretRefInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneSecretRef")]
    pub fn put_secret_ref<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, secrets::put)
    }

    /// By name.
    #[napi(ts_args_type = "input: ControlPlaneListSecretRefsInput", ts_return_type = "ControlPlaneSecretRef[]")]
    pub fn list_secret_refs<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, secrets::list)
    }

    /// `NOT_FOUND` when there is no such ref.
    #[napi(ts_args_type = "input: ControlPlaneDeleteSecretRefInput & ControlPlaneRequestOrigin")]
    pub fn delete_secret_ref(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, secrets::delete)
    }
}

#[napi]
impl OrgScope {
    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneUpsertBillingAccountInput>", ts_return_type = "ControlPlaneBillingAccount")]
    pub fn upsert_billing_account<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, billing::upsert)
    }

    /// `getBillingAccount` of this handle's org.
    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneOrgRef>", ts_return_type = "ControlPlaneBillingAccount | null")]
    pub fn get_billing_account<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, billing::get_account)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneUpsertIdentityProviderInput>", ts_return_type = "ControlPlaneIdentityProvider")]
    pub fn upsert_identity_provider<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, identity::upsert)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneListIdentityProvidersInput>", ts_return_type = "ControlPlaneIdentityProvider[]")]
    pub fn list_identity_providers<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, identity::list)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneDeleteIdentityProviderInput>")]
    pub fn delete_identity_provider(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, identity::delete)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlanePutSecretRefInput>", ts_return_type = "ControlPlaneSecretRef")]
    pub fn put_secret_ref<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, secrets::put)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneListSecretRefsInput>", ts_return_type = "ControlPlaneSecretRef[]")]
    pub fn list_secret_refs<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, secrets::list)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneDeleteSecretRefInput>")]
    pub fn delete_secret_ref(&self, env: &Env, input: Option<Unknown>) -> Result<()> {
        call::void(self, env, input, secrets::delete)
    }
}
