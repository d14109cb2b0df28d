//! References to secrets held in an external manager. Only the provider and the reference
//! are stored, never a secret's value.

use super::audit::{self, NewEvent};
use super::db;
use super::error::Result;
use super::orgs::{self, WriteKind};
use super::parents::{self, Parents};
use super::quotas;
use super::removal::{self, Removal};
use super::validate::{Input, ORG_KEY};
use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    pub org_id: String,
    pub project_id: Option<String>,
    pub name: String,
    pub provider: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub rotated_at_ms: Option<i64>,
}

const SELECT: &str = "SELECT org_id, project_id, name, provider, ref, created_by, created_at_ms, rotated_at_ms
  FROM _smithers_cp_secret_refs";

fn from_row(r: &Row) -> rusqlite::Result<SecretRef> {
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

/// `putSecretRef`: stores the reference, replacing any of the same (org, scope, name).
pub fn put(conn: &Connection, input: &Input) -> Result<SecretRef> {
    let secret = SecretRef {
        org_id: input.id("orgId")?,
        project_id: input.opt_id("projectId")?,
        name: input.string("name")?,
        created_at_ms: input.timestamp("createdAtMs")?,
        rotated_at_ms: input.opt_timestamp("rotatedAtMs")?,
        provider: input.string("provider")?,
        reference: input.string("ref")?,
        created_by: input.opt_id("createdBy")?,
    };
    let project_key = secret.project_id.as_deref().unwrap_or(ORG_KEY);
    let parents = Parents::project(&secret.org_id, secret.project_id.as_deref());
    db::write(conn, |c| {
        orgs::guard(c, &secret.org_id, WriteKind::Create)?;
        let sql = "SELECT 1 FROM _smithers_cp_secret_refs WHERE org_id = ?1 AND project_key = ?2 AND name = ?3";
        if !parents::row_exists(c, sql, &[&secret.org_id, &project_key, &secret.name])? {
            quotas::check(c, &quotas::SECRET_REFS, &secret.org_id, None)?;
        }
        c.prepare_cached(
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
        )?
        .execute(params![
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
        audit::insert(
            c,
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
pub enum Scope {
    /// Every ref of the org, project-scoped and org-wide.
    All,
    /// Org-wide refs only.
    OrgWide,
    Project(String),
}

/// `listSecretRefs`: `projectId` absent lists all of the org; `null` or empty the org-wide
/// refs; an id that project's refs. Ordered by name.
pub fn list(conn: &Connection, input: &Input) -> Result<Vec<SecretRef>> {
    let org_id = input.id("orgId")?;
    let scope = if !input.has("projectId") {
        Scope::All
    } else {
        match input.opt_id("projectId")? {
            None => Scope::OrgWide,
            Some(id) => Scope::Project(id),
        }
    };
    list_for(conn, &org_id, &scope)
}

pub fn list_for(conn: &Connection, org_id: &str, scope: &Scope) -> Result<Vec<SecretRef>> {
    let key = match scope {
        Scope::All => None,
        Scope::OrgWide => Some(ORG_KEY),
        Scope::Project(id) => Some(id.as_str()),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE org_id = ?1 AND (?2 IS NULL OR project_key = ?2) ORDER BY name, project_key"
    ))?;
    let rows = stmt.query_map(params![org_id, key], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// `deleteSecretRef({orgId, projectId?, name, actorId?, atMs?})`: absent or `null`
/// `projectId` names the org-wide ref.
pub fn delete(conn: &Connection, input: &Input) -> Result<()> {
    let org_id = input.id("orgId")?;
    let project_id = input.opt_id("projectId")?;
    let name = input.string("name")?;
    let actor_id = input.opt_id("actorId")?;
    let at = input.timestamp("atMs")?;
    let project_key = project_id.as_deref().unwrap_or(ORG_KEY);
    removal::remove(
        conn,
        Removal {
            what: "secret ref",
            details: json!({ "orgId": org_id, "projectId": project_id, "name": name }),
            delete_sql: "DELETE FROM _smithers_cp_secret_refs WHERE org_id = ?1 AND project_key = ?2 AND name = ?3",
            params: &[&org_id, &project_key, &name],
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
