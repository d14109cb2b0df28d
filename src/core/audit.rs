//! Audit events: the write every mutation shares, the public `recordAuditEvent`, and the
//! windowed read used by the export.

use super::db;
use super::error::Result;
use super::parents::Parents;
use super::validate::{parse_metadata, Input};
use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: i64,
    pub org_id: String,
    pub project_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub occurred_at_ms: i64,
    pub metadata: Value,
}

/// An event about to be written, as the mutations describe it.
pub struct NewEvent<'a> {
    pub org_id: &'a str,
    pub project_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<&'a str>,
    pub occurred_at_ms: i64,
    pub metadata: Value,
}

const INSERT: &str = "INSERT INTO _smithers_cp_audit_events
  (org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

const SELECT: &str = "SELECT id, org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json
  FROM _smithers_cp_audit_events";

fn from_row(r: &Row) -> rusqlite::Result<AuditEvent> {
    Ok(AuditEvent {
        id: r.get(0)?,
        org_id: r.get(1)?,
        project_id: r.get(2)?,
        actor_id: r.get(3)?,
        action: r.get(4)?,
        target_type: r.get(5)?,
        target_id: r.get(6)?,
        occurred_at_ms: r.get(7)?,
        metadata: parse_metadata(&r.get::<_, String>(8)?),
    })
}

/// Writes one event inside the caller's transaction and returns its id.
pub fn insert(conn: &Connection, ev: &NewEvent) -> Result<i64> {
    let parents = Parents::project(ev.org_id, ev.project_id);
    conn.prepare_cached(INSERT)?
        .execute(params![
            ev.org_id,
            ev.project_id,
            ev.actor_id,
            ev.action,
            ev.target_type,
            ev.target_id,
            ev.occurred_at_ms,
            ev.metadata.to_string()
        ])
        .map_err(|e| parents.explain(conn, e))?;
    Ok(conn.last_insert_rowid())
}

/// `recordAuditEvent`: a caller's own event.
pub fn record(conn: &Connection, input: &Input) -> Result<AuditEvent> {
    let org_id = input.id("orgId")?;
    let project_id = input.opt_id("projectId")?;
    let occurred_at_ms = input.timestamp("occurredAtMs")?;
    let (metadata, _) = input.metadata("metadata")?;
    let actor_id = input.opt_id("actorId")?;
    let action = input.string("action")?;
    let target_type = input.string("targetType")?;
    let target_id = input.opt_id("targetId")?;
    let ev = NewEvent {
        org_id: &org_id,
        project_id: project_id.as_deref(),
        actor_id: actor_id.as_deref(),
        action: &action,
        target_type: &target_type,
        target_id: target_id.as_deref(),
        occurred_at_ms,
        metadata,
    };
    let id = db::write(conn, |c| insert(c, &ev))?;
    let metadata = ev.metadata;
    Ok(AuditEvent { id, org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata })
}

/// The org's events with `since <= occurredAtMs <= until`, ordered by (occurredAtMs, id).
pub fn list_window(conn: &Connection, org_id: &str, since_ms: i64, until_ms: i64) -> Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE org_id = ?1 AND occurred_at_ms >= ?2 AND occurred_at_ms <= ?3 ORDER BY occurred_at_ms, id"
    ))?;
    let rows = stmt.query_map(params![org_id, since_ms, until_ms], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
