//! An org's settings: its billing account, identity providers and secret references.

use control_plane_core::settings::{billing, identity, secrets};

crate::binding::declare::operations! {
    /// The org's one billing account, created or replaced.
    upsertBillingAccount: value Input Required billing::upsert, [Store Scope Async],
        "input: ControlPlaneUpsertBillingAccountInput & ControlPlaneRequestOrigin" => "ControlPlaneBillingAccount";
    getBillingAccount: value Input Optional billing::get_account, [Store Scope Async],
        "input?: ControlPlaneOrgRef" => "ControlPlaneBillingAccount | null";
    /// An update replaces every field but keeps the first `createdAtMs`.
    upsertIdentityProvider: value Input Required identity::upsert, [Store Scope Async],
        "input: ControlPlaneUpsertIdentityProviderInput & ControlPlaneRequestOrigin" => "ControlPlaneIdentityProvider";
    /// By providerId.
    listIdentityProviders: value Input Required identity::list, [Store Scope Async],
        "input: ControlPlaneListIdentityProvidersInput" => "ControlPlaneIdentityProvider[]";
    /// `NOT_FOUND` when there is no such provider.
    deleteIdentityProvider: void Input Required identity::delete, [Store Scope Async],
        "input: ControlPlaneDeleteIdentityProviderInput & ControlPlaneRequestOrigin" => "void";
    /// Stores the reference (never a secret's value), replacing the one of the same name
    /// in its scope.
    putSecretRef: value Input Required secrets::put, [Store Scope Async],
        "input: ControlPlanePutSecretRefInput & ControlPlaneRequestOrigin" => "ControlPlaneSecretRef";
    /// By name.
    listSecretRefs: value Input Required secrets::list, [Store Scope Async],
        "input: ControlPlaneListSecretRefsInput" => "ControlPlaneSecretRef[]";
    /// `NOT_FOUND` when there is no such ref.
    deleteSecretRef: void Input Required secrets::delete, [Store Scope Async],
        "input: ControlPlaneDeleteSecretRefInput & ControlPlaneRequestOrigin" => "void";
}
