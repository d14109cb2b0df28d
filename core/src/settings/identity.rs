//! SAML / OIDC identity-provider records.

use crate::chain::{self, NewEvent};
use crate::db;
use crate::error::Result;
use crate::tenancy::orgs::{self, WriteKind};
use crate::parents::{self, Parents};
use crate::tenancy::quotas;
use crate::tenancy::removal::{self, Removal};
use crate::request::{FromInput, RequestContext};
use crate::validate::{now_ms, parse_metadata, Input};
use crate::params;
use crate::engine::Row;
use crate::db::Db;
use serde::Serialize;
use serde_json::{json, Value};
use ts_rs::TS;

#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneIdentityProvider")]
pub struct IdentityProvider {
    pub org_id: String,
    pub provider_id: String,
    /// `saml`, `oidc`, or another kind the caller names.
    #[serde(rename = "type")]
    pub kind: String,
    pub issuer: String,
    pub sso_url: Option<String>,
    /// Where the signing certificate is kept (a reference, not the certificate).
    pub certificate_ref: Option<String>,
    pub status: String,
    #[ts(type = "Record<string, unknown>")]
    pub metadata: Value,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// `upsertIdentityProvider`'s input: an update replaces every field but `createdAtMs`.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneUpsertIdentityProviderInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct UpsertIdentityProvider {
    pub org_id: String,
    /// A random UUID when missing or blank.
    pub provider_id: Option<String>,
    #[ts(rename = "type", type = "\"saml\" | \"oidc\" | (string & {})")]
    pub kind: String,
    pub issuer: String,
    pub sso_url: Option<String>,
    pub certificate_ref: Option<String>,
    /// `active` when missing.
    pub status: Option<String>,
    /// A JSON object (at most 64 KiB of JSON, 16 levels deep); `{}` when missing.
    #[ts(optional, type = "Record<string, unknown> | null")]
    pub metadata: Option<Value>,
    /// `updatedAtMs` when missing; an update keeps the provider's first one.
    pub created_at_ms: Option<i64>,
    /// Now when missing.
    pub updated_at_ms: Option<i64>,
}

impl FromInput for UpsertIdentityProvider {
    fn from_input(input: &Input) -> Result<Self> {
        // In the order the store has always read them, so the same field is named first.
        let org_id = input.id("orgId")?;
        let provider_id = input.id_or_new("providerId")?;
        let (metadata, _) = input.metadata("metadata")?;
        let updated_at_ms = input.timestamp("updatedAtMs")?;
        let created_at_ms = input.timestamp_or("createdAtMs", updated_at_ms)?;
        let status = input.string_or("status", "active")?;
        let kind = input.string("type")?;
        let issuer = input.string("issuer")?;
        let sso_url = input.opt_string("ssoUrl")?;
        let certificate_ref = input.opt_string("certificateRef")?;
        Ok(UpsertIdentityProvider {
            org_id,
            provider_id: Some(provider_id),
            kind,
            issuer,
            sso_url,
            certificate_ref,
            status: Some(status),
            metadata: Some(metadata),
            created_at_ms: Some(created_at_ms),
            updated_at_ms: Some(updated_at_ms),
        })
    }
}

/// `listIdentityProviders`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneListIdentityProvidersInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ListIdentityProviders {
    pub org_id: String,
    /// Only the providers of this status; all when missing.
    pub status: Option<String>,
}

impl FromInput for ListIdentityProviders {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(ListIdentityProviders { org_id: input.id("orgId")?, status: input.opt_string("status")? })
    }
}

/// `deleteIdentityProvider`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneDeleteIdentityProviderInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct DeleteIdentityProvider {
    pub org_id: String,
    pub provider_id: String,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub at_ms: Option<i64>,
}

impl FromInput for DeleteIdentityProvider {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(DeleteIdentityProvider {
            org_id: input.id("orgId")?,
            provider_id: input.id("providerId")?,
            actor_id: input.opt_id("actorId")?,
            at_ms: Some(input.timestamp("atMs")?),
        })
    }
}

const SELECT: &str = "SELECT org_id, provider_id, type, issuer, sso_url, certificate_ref, status, metadata_json,
  created_at_ms, updated_at_ms FROM _smithers_cp_identity_providers";

fn from_row(r: &dyn Row) -> Result<IdentityProvider> {
    Ok(IdentityProvider {
        org_id: r.get(0)?,
        provider_id: r.get(1)?,
        kind: r.get(2)?,
        issuer: r.get(3)?,
        sso_url: r.get(4)?,
        certificate_ref: r.get(5)?,
        status: r.get(6)?,
        metadata: parse_metadata(&r.get::<String>(7)?),
        created_at_ms: r.get(8)?,
        updated_at_ms: r.get(9)?,
    })
}

/// `upsertIdentityProvider`: an update replaces every field but keeps the first `createdAtMs`.
pub fn upsert(conn: &Db, ctx: &RequestContext, req: UpsertIdentityProvider) -> Result<IdentityProvider> {
    let UpsertIdentityProvider { org_id, provider_id, kind, issuer, sso_url, certificate_ref, status, metadata, created_at_ms, updated_at_ms } = req;
    let provider_id = provider_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let status = status.unwrap_or_else(|| "active".into());
    let metadata = metadata.unwrap_or_else(crate::request::empty);
    // The text `Input::metadata` stores: the object as JSON.
    let metadata_json = metadata.to_string();
    let updated_at_ms = updated_at_ms.unwrap_or_else(now_ms);
    let created_at_ms = created_at_ms.unwrap_or(updated_at_ms);
    let kept_created_at_ms = db::write_org(conn, &org_id, |c| {
        orgs::guard(c, &org_id, WriteKind::Create)?;
        let sql = "SELECT 1 AS found FROM _smithers_cp_identity_providers WHERE org_id = ?1 AND provider_id = ?2";
        if !parents::row_exists(c, sql, params![org_id, provider_id])? {
            quotas::check(c, &quotas::IDENTITY_PROVIDERS, &org_id, None)?;
        }
        let created: i64 = c
            .one(
                "INSERT INTO _smithers_cp_identity_providers
                   (org_id, provider_id, type, issuer, sso_url, certificate_ref, status, metadata_json, created_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(org_id, provider_id) DO UPDATE SET
                   type = excluded.type,
                   issuer = excluded.issuer,
                   sso_url = excluded.sso_url,
                   certificate_ref = excluded.certificate_ref,
                   status = excluded.status,
                   metadata_json = excluded.metadata_json,
                   updated_at_ms = excluded.updated_at_ms
                 RETURNING created_at_ms",
            params![
                    org_id,
                    provider_id,
                    kind,
                    issuer,
                    sso_url,
                    certificate_ref,
                    status,
                    metadata_json,
                    created_at_ms,
                    updated_at_ms
                ], |r| r.get(0))
            .map_err(|e| Parents::org(&org_id).explain(c, e))?;
        chain::insert(
            c,
            ctx,
            &NewEvent {
                org_id: &org_id,
                project_id: None,
                actor_id: None,
                action: "identity_provider.upsert",
                target_type: "identity_provider",
                target_id: Some(&provider_id),
                occurred_at_ms: updated_at_ms,
                metadata: json!({ "type": kind, "status": status }),
            },
        )?;
        Ok(created)
    })?;
    Ok(IdentityProvider {
        org_id,
        provider_id,
        kind,
        issuer,
        sso_url,
        certificate_ref,
        status,
        metadata,
        created_at_ms: kept_created_at_ms,
        updated_at_ms,
    })
}

/// `listIdentityProviders`: the org's providers, optionally of one status, by providerId.
pub fn list(conn: &Db, _ctx: &RequestContext, req: ListIdentityProviders) -> Result<Vec<IdentityProvider>> {
    list_for(conn, &req.org_id, req.status.as_deref())
}

pub(crate) fn list_for(conn: &Db, org_id: &str, status: Option<&str>) -> Result<Vec<IdentityProvider>> {
    conn.rows(&format!(
        "{SELECT} WHERE org_id = ?1 AND ({p2} IS NULL OR status = ?2) ORDER BY provider_id",
        p2 = conn.dialect().text_param(2)
    ), params![org_id, status], from_row)
}

/// `deleteIdentityProvider({orgId, providerId, actorId?, atMs?})`.
pub fn delete(conn: &Db, ctx: &RequestContext, req: DeleteIdentityProvider) -> Result<()> {
    let DeleteIdentityProvider { org_id, provider_id, actor_id, at_ms } = req;
    let at = at_ms.unwrap_or_else(now_ms);
    removal::remove(
        conn,
        ctx,
        Removal {
            what: "identity provider",
            details: json!({ "orgId": org_id, "providerId": provider_id }),
            delete_sql: "DELETE FROM _smithers_cp_identity_providers WHERE org_id = ?1 AND provider_id = ?2",
            params: params![org_id, provider_id],
            event: NewEvent {
                org_id: &org_id,
                project_id: None,
                actor_id: actor_id.as_deref(),
                action: "identity_provider.delete",
                target_type: "identity_provider",
                target_id: Some(&provider_id),
                occurred_at_ms: at,
                metadata: json!({}),
            },
        },
    )
}
