//! Organizations.

use super::audit::{self, NewEvent};
use super::db;
use super::error::{is_constraint, CpError, Result};
use super::validate::Input;
use rusqlite::{ffi, params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    pub org_id: String,
    pub slug: String,
    pub name: String,
    pub created_at_ms: i64,
}

fn from_row(r: &Row) -> rusqlite::Result<Org> {
    Ok(Org { org_id: r.get(0)?, slug: r.get(1)?, name: r.get(2)?, created_at_ms: r.get(3)? })
}

/// `createOrg`: the org row and its `org.create` audit event, together or not at all.
pub fn create(conn: &Connection, input: &Input) -> Result<Org> {
    let org = Org {
        org_id: input.id_or_new("orgId")?,
        slug: input.slug("slug")?,
        name: input.string("name")?,
        created_at_ms: input.timestamp("createdAtMs")?,
    };
    db::write(conn, |c| {
        c.prepare_cached("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![org.org_id, org.slug, org.name, org.created_at_ms])
            .map_err(|e| {
                if is_constraint(&e, ffi::SQLITE_CONSTRAINT_UNIQUE) {
                    CpError::duplicate("org", "slug", &org.slug, None)
                } else if is_constraint(&e, ffi::SQLITE_CONSTRAINT_PRIMARYKEY) {
                    CpError::duplicate("org", "id", &org.org_id, None)
                } else {
                    e.into()
                }
            })?;
        audit::insert(
            c,
            &NewEvent {
                org_id: &org.org_id,
                project_id: None,
                actor_id: Some("system"),
                action: "org.create",
                target_type: "org",
                target_id: Some(&org.org_id),
                occurred_at_ms: org.created_at_ms,
                metadata: json!({}),
            },
        )?;
        Ok(())
    })?;
    Ok(org)
}

pub fn get(conn: &Connection, org_id: &str) -> Result<Option<Org>> {
    Ok(conn
        .prepare_cached("SELECT org_id, slug, name, created_at_ms FROM _smithers_cp_orgs WHERE org_id = ?1")?
        .query_row([org_id], from_row)
        .optional()?)
}

/// `getOrg(orgId)`.
pub fn get_input(conn: &Connection, input: &Input) -> Result<Option<Org>> {
    get(conn, &input.id("orgId")?)
}
