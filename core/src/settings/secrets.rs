//! References to secrets held in an external manager. Only the provider and the reference
//! are stored, never a secret's value.

use crate::chain::{self, NewEvent};
use crate::db;
use crate::error::{CpError, Result};
use crate::tenancy::orgs::{self, WriteKind};
use crate::parents::{self, Parents};
use crate::tenancy::quotas;
use crate::tenancy::removal::{self, Removal};
use crate::request::{FromInput, RequestContext};
use crate::validate::{now_ms, Input, ORG_KEY};
use crate::params;
use crate::engine::Row;
use crate::db::Db;
use serde::Serialize;
use serde_json::json;
use ts_rs::TS;

/// A reference to a secret kept in a secret manager; never the secret's value.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneSecretRef")]
pub struct SecretRef {
    pub org_id: String,
    /// `null` for an org-wide ref.
    pub project_id: Option<String>,
    pub name: String,
    /// The secret manager holding the value.
    pub provider: String,
    /// Where the value is in the manager.
    #[serde(rename = "ref")]
    pub reference: String,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub rotated_at_ms: Option<i64>,
}

/// `putSecretRef`'s input. A `ref` that looks like a secret value (a key, a token, a
/// private key, a long random string) is refused with `SECRET_VALUE_REJECTED`.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlanePutSecretRefInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct PutSecretRef {
    pub org_id: String,
    /// The project the ref belongs to; org-wide when missing, `null` or empty.
    pub project_id: Option<String>,
    /// Unique within its scope (the project, or the org-wide refs): a put replaces the ref of
    /// that name.
    pub name: String,
    pub provider: String,
    #[ts(rename = "ref")]
    pub reference: String,
    /// Also the actor of the audit event.
    pub created_by: Option<String>,
    /// Now when missing.
    pub created_at_ms: Option<i64>,
    pub rotated_at_ms: Option<i64>,
}

impl FromInput for PutSecretRef {
    fn from_input(input: &Input) -> Result<Self> {
        // In the order the store has always read them, so the same field is named first.
        let org_id = input.id("orgId")?;
        let project_id = input.opt_id("projectId")?;
        let name = input.string("name")?;
        let created_at_ms = input.timestamp("createdAtMs")?;
        let rotated_at_ms = input.opt_timestamp("rotatedAtMs")?;
        let provider = input.string("provider")?;
        let reference = input.string("ref")?;
        let created_by = input.opt_id("createdBy")?;
        Ok(PutSecretRef { org_id, project_id, name, provider, reference, created_by, created_at_ms: Some(created_at_ms), rotated_at_ms })
    }
}

/// `listSecretRefs`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneListSecretRefsInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ListSecretRefs {
    pub org_id: String,
    /// Missing: every ref of the org; `null` or empty: the org-wide refs only; an id: that
    /// project's refs.
    #[ts(as = "Option<String>", rename = "projectId")]
    pub scope: Scope,
}

impl FromInput for ListSecretRefs {
    fn from_input(input: &Input) -> Result<Self> {
        let org_id = input.id("orgId")?;
        // A `projectId` that is there, even as null, narrows the list.
        let scope = if !input.has("projectId") {
            Scope::All
        } else {
            match input.opt_id("projectId")? {
                None => Scope::OrgWide,
                Some(id) => Scope::Project(id),
            }
        };
        Ok(ListSecretRefs { org_id, scope })
    }
}

/// `deleteSecretRef`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneDeleteSecretRefInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct DeleteSecretRef {
    pub org_id: String,
    /// The ref's project; the org-wide ref when missing, `null` or empty.
    pub project_id: Option<String>,
    pub name: String,
    pub actor_id: Option<String>,
    /// Now when missing.
    pub at_ms: Option<i64>,
}

impl FromInput for DeleteSecretRef {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(DeleteSecretRef {
            org_id: input.id("orgId")?,
            project_id: input.opt_id("projectId")?,
            name: input.string("name")?,
            actor_id: input.opt_id("actorId")?,
            at_ms: Some(input.timestamp("atMs")?),
        })
    }
}

const SELECT: &str = "SELECT org_id, project_id, name, provider, ref, created_by, created_at_ms, rotated_at_ms
  FROM _smithers_cp_secret_refs";

fn from_row(r: &dyn Row) -> Result<SecretRef> {
    Ok(SecretRef {
        org_id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        provider: r.get(3)?,
        reference: r.get(4)?,
        created_by: r.get(5)?,
        created_at_ms: r.get(6)?,
        rotated_at_ms: r.get(7)?,
    })
}

/// What kind of credential a `ref` looks like, if it looks like a secret value rather than
/// a reference to one. The checks are deliberately about shape, not about any provider's
/// reference format, so every reference scheme stays accepted.
fn credential_kind(value: &str) -> Option<&'static str> {
    let v = value.trim();
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some("private key");
    }
    let words: Vec<&str> = v.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).collect();
    for w in &words {
        let tail_alnum = |prefix: &str, min: usize| {
            w.strip_prefix(prefix).is_some_and(|rest| rest.len() >= min && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        };
        if (w.starts_with("AKIA") || w.starts_with("ASIA"))
            && w.len() == 20
            && w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Some("AWS access key");
        }
        if ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"].iter().any(|p| tail_alnum(p, 30)) || tail_alnum("github_pat_", 30) {
            return Some("GitHub token");
        }
        if ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-"].iter().any(|p| w.starts_with(p) && w.len() >= 20) {
            return Some("Slack token");
        }
        if ["sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_"].iter().any(|p| tail_alnum(p, 16)) {
            return Some("Stripe key");
        }
        if w.starts_with("sk-") && w.len() >= 24 {
            return Some("API key");
        }
    }
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts.iter().all(|p| p.len() >= 4 && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Some("JWT");
    }
    // A long random-looking string with no scheme and no path: a raw key, not a reference.
    let has_scheme = v.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    if !has_scheme && !v.contains('/') && !v.contains(' ') && v.len() >= 32 && entropy(v) >= 3.5 {
        return Some("high-entropy string");
    }
    None
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts.values().map(|&k| {
        let p = k as f64 / n;
        -p * p.log2()
    }).sum()
}

/// `putSecretRef`: stores the reference, replacing any of the same (org, scope, name).
pub fn put(conn: &Db, ctx: &RequestContext, req: PutSecretRef) -> Result<SecretRef> {
    let secret = SecretRef {
        org_id: req.org_id,
        project_id: req.project_id,
        name: req.name,
        provider: req.provider,
        reference: req.reference,
        created_by: req.created_by,
        created_at_ms: req.created_at_ms.unwrap_or_else(now_ms),
        rotated_at_ms: req.rotated_at_ms,
    };
    // Before the transaction: a refused value touches nothing.
    if let Some(kind) = credential_kind(&secret.reference) {
        return Err(CpError::new(
            "SECRET_VALUE_REJECTED",
            format!("ref looks like a secret value ({kind}), not a reference to one: keep the value in a secret manager and store its reference."),
            Some(json!({ "field": "ref", "kind": kind })),
        ));
    }
    let project_key = secret.project_id.as_deref().unwrap_or(ORG_KEY);
    let parents = Parents::project(&secret.org_id, secret.project_id.as_deref());
    db::write_org(conn, &secret.org_id, |c| {
        orgs::guard(c, &secret.org_id, WriteKind::Create)?;
        let sql = "SELECT 1 AS found FROM _smithers_cp_secret_refs WHERE org_id = ?1 AND project_key = ?2 AND name = ?3";
        if !parents::row_exists(c, sql, params![secret.org_id, project_key, secret.name])? {
            quotas::check(c, &quotas::SECRET_REFS, &secret.org_id, None)?;
        }
        c.execute(
            "INSERT INTO _smithers_cp_secret_refs
               (org_id, project_key, project_id, name, provider, ref, created_by, created_at_ms, rotated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(org_id, project_key, name) DO UPDATE SET
               project_id = excluded.project_id,
               provider = excluded.provider,
               ref = excluded.ref,
               created_by = excluded.created_by,
               created_at_ms = excluded.created_at_ms,
               rotated_at_ms = excluded.rotated_at_ms",
        params![
            secret.org_id,
            project_key,
            secret.project_id,
            secret.name,
            secret.provider,
            secret.reference,
            secret.created_by,
            secret.created_at_ms,
            secret.rotated_at_ms
        ])
        .map_err(|e| parents.explain(c, e))?;
        chain::insert(
            c,
            ctx,
            &NewEvent {
                org_id: &secret.org_id,
                project_id: secret.project_id.as_deref(),
                actor_id: secret.created_by.as_deref(),
                action: "secret_ref.upsert",
                target_type: "secret_ref",
                target_id: Some(&secret.name),
                occurred_at_ms: secret.rotated_at_ms.unwrap_or(secret.created_at_ms),
                metadata: json!({ "provider": secret.provider }),
            },
        )?;
        Ok(())
    })?;
    Ok(secret)
}

/// Which secret refs to list.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// Every ref of the org, project-scoped and org-wide.
    All,
    /// Org-wide refs only.
    OrgWide,
    Project(String),
}

/// `listSecretRefs`: `projectId` absent lists all of the org; `null` or empty the org-wide
/// refs; an id that project's refs. Ordered by name.
pub fn list(conn: &Db, _ctx: &RequestContext, req: ListSecretRefs) -> Result<Vec<SecretRef>> {
    list_for(conn, &req.org_id, &req.scope)
}

pub(crate) fn list_for(conn: &Db, org_id: &str, scope: &Scope) -> Result<Vec<SecretRef>> {
    let key = match scope {
        Scope::All => None,
        Scope::OrgWide => Some(ORG_KEY),
        Scope::Project(id) => Some(id.as_str()),
    };
    conn.rows(&format!(
        "{SELECT} WHERE org_id = ?1 AND ({p2} IS NULL OR project_key = ?2) ORDER BY name, project_key",
        p2 = conn.dialect().text_param(2)
    ), params![org_id, key], from_row)
}

/// `deleteSecretRef({orgId, projectId?, name, actorId?, atMs?})`: absent or `null`
/// `projectId` names the org-wide ref.
pub fn delete(conn: &Db, ctx: &RequestContext, req: DeleteSecretRef) -> Result<()> {
    let DeleteSecretRef { org_id, project_id, name, actor_id, at_ms } = req;
    let at = at_ms.unwrap_or_else(now_ms);
    let project_key = project_id.as_deref().unwrap_or(ORG_KEY);
    removal::remove(
        conn,
        ctx,
        Removal {
            what: "secret ref",
            details: json!({ "orgId": org_id, "projectId": project_id, "name": name }),
            delete_sql: "DELETE FROM _smithers_cp_secret_refs WHERE org_id = ?1 AND project_key = ?2 AND name = ?3",
            params: params![org_id, project_key, name],
            event: NewEvent {
                org_id: &org_id,
                project_id: project_id.as_deref(),
                actor_id: actor_id.as_deref(),
                action: "secret_ref.delete",
                target_type: "secret_ref",
                target_id: Some(&name),
                occurred_at_ms: at,
                metadata: json!({}),
            },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::credential_kind;

    #[test]
    fn credentials_are_told_from_references() {
        for (value, kind) in [
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow...", "private key"),
            ("AKIAIOSFODNN7EXAMPLE", "AWS access key"),
            ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "GitHub token"),
            ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "GitHub token"),
            ("xoxb-1234567890-abcdefghij", "Slack token"),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Stripe key"),
            ("sk-proj-abcdefghijklmnopqrstuvwxyz012345", "API key"),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX2hlcmU", "JWT"),
            ("q8Zr2LmX0pVb7NcT4wKy9HsJ3dFg6AeU", "high-entropy string"),
        ] {
            assert_eq!(credential_kind(value), Some(kind), "{value}");
        }
        for reference in [
            "vault://kv/agents/openai",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/openai-AbCdEf",
            "projects/123/secrets/openai/versions/latest",
            "op://Engineering/OpenAI/credential",
            "env:OPENAI_API_KEY",
            "openai-prod-key",
            "azure-kv://acme-vault/openai",
        ] {
            assert_eq!(credential_kind(reference), None, "{reference}");
        }
    }
}
