//! Audit events: the write every mutation shares, the public `recordAuditEvent`, and the
//! windowed read used by the export.

pub mod export;
pub mod retention;

use crate::db;
use crate::error::Result;
use crate::tenancy::parents::Parents;
use crate::page::{self, Page};
use crate::validate::{parse_metadata, Input};
use crate::params;
use crate::engine::{Row, SqlValue};
use crate::db::Db;
pub use crate::request::RequestContext;
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
    /// Where the request came from, when the caller said (absent for events without).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

thread_local! {
    // Temporary, while operations move to typed requests: the context of a call that
    // still goes through `store::call_value`, for `insert_legacy`.
    static CONTEXT: std::cell::RefCell<RequestContext> = std::cell::RefCell::default();
}

/// Runs one store call of the string dispatcher with its request context.
pub fn with_context<T>(context: RequestContext, f: impl FnOnce() -> T) -> T {
    let previous = CONTEXT.with(|c| c.replace(context));
    let out = f();
    CONTEXT.with(|c| *c.borrow_mut() = previous);
    out
}

fn context() -> RequestContext {
    CONTEXT.with(|c| c.borrow().clone())
}

/// `insert` with the context of a call of the string dispatcher.
pub fn insert_legacy(conn: &Db, ev: &NewEvent) -> Result<i64> {
    insert(conn, &context(), ev)
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
  (org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json, ip_address, user_agent, request_id)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

const SELECT: &str = "SELECT id, org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json,
  ip_address, user_agent, request_id
  FROM _smithers_cp_audit_events";

fn from_row(r: &dyn Row) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: r.get(0)?,
        org_id: r.get(1)?,
        project_id: r.get(2)?,
        actor_id: r.get(3)?,
        action: r.get(4)?,
        target_type: r.get(5)?,
        target_id: r.get(6)?,
        occurred_at_ms: r.get(7)?,
        metadata: parse_metadata(&r.get::<String>(8)?),
        ip_address: r.get(9)?,
        user_agent: r.get(10)?,
        request_id: r.get(11)?,
    })
}

/// The chain hash of an event: SHA-256 over its canonical fields (a JSON array, so no
/// two field lists write the same text) and the previous event's hash. An event with a
/// request context has it in its array too; one without keeps the form events had before
/// contexts existed, so their hashes still verify (and adding or removing a context
/// changes the array, so either breaks the hash).
#[allow(clippy::too_many_arguments)]
fn chain_hash(
    id: i64,
    org_id: &str,
    project_id: Option<&str>,
    actor_id: Option<&str>,
    action: &str,
    target_type: &str,
    target_id: Option<&str>,
    occurred_at_ms: i64,
    metadata_json: &str,
    origin: [Option<&str>; 3],
    prev: &str,
) -> String {
    use sha2::{Digest, Sha256};
    let canonical = if origin.iter().all(Option::is_none) {
        serde_json::json!([id, org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json, prev])
    } else {
        serde_json::json!([id, org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json, origin, prev])
    };
    Sha256::digest(canonical.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes one event inside the caller's transaction, links it into the org's hash chain,
/// and returns its id.
pub fn insert(conn: &Db, context: &RequestContext, ev: &NewEvent) -> Result<i64> {
    let parents = Parents::project(ev.org_id, ev.project_id);
    let metadata_json = ev.metadata.to_string();
    let actor_id = ev.actor_id.or(context.actor_id.as_deref());
    let origin = [context.ip_address.as_deref(), context.user_agent.as_deref(), context.request_id.as_deref()];
    let id = conn
        .insert(
            INSERT,
            params![
                ev.org_id,
                ev.project_id,
                actor_id,
                ev.action,
                ev.target_type,
                ev.target_id,
                ev.occurred_at_ms,
                metadata_json,
                origin[0],
                origin[1],
                origin[2]
            ],
        )
        .map_err(|e| parents.explain(conn, e))?;
    let prev: String = conn
        .row("SELECT last_hash FROM _smithers_cp_audit_chain_heads WHERE org_id = ?1", params![ev.org_id], |r| r.get(0))?
        .unwrap_or_default();
    let hash = chain_hash(
        id,
        ev.org_id,
        ev.project_id,
        actor_id,
        ev.action,
        ev.target_type,
        ev.target_id,
        ev.occurred_at_ms,
        &metadata_json,
        origin,
        &prev,
    );
    conn.execute("UPDATE _smithers_cp_audit_events SET chain_prev = ?2, chain_hash = ?3 WHERE id = ?1", params![id, prev, hash])?;
    conn.execute(
        "INSERT INTO _smithers_cp_audit_chain_heads (org_id, last_id, last_hash, events) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT(org_id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, events = events + 1",
        params![ev.org_id, id, hash],
    )?;
    Ok(id)
}

/// A retention purge's batch: up to `batch` of the org's events older than `cutoff`, the
/// oldest first (through the org's time index), each leaving its hash (when it has one) so
/// the chain still verifies across the gap. Runs in the caller's write transaction; the
/// number of events removed.
pub fn purge_expired(conn: &Db, org_id: &str, cutoff: i64, batch: i64) -> Result<i64> {
    const DUE: &str = "SELECT id FROM _smithers_cp_audit_events WHERE org_id = ?1 AND occurred_at_ms < ?2
                       ORDER BY occurred_at_ms, id LIMIT ?3";
    conn.execute(
        &format!(
            "INSERT OR IGNORE INTO _smithers_cp_audit_chain_redactions (org_id, id, chain_hash, reason)
             SELECT org_id, id, chain_hash, 'retention' FROM _smithers_cp_audit_events
             WHERE id IN ({DUE}) AND chain_hash IS NOT NULL"
        ),
        params![org_id, cutoff, batch],
    )?;
    Ok(conn.execute(&format!("DELETE FROM _smithers_cp_audit_events WHERE id IN ({DUE})"), params![org_id, cutoff, batch])? as i64)
}

/// Before this store deletes chained events on purpose (a project's, with the project),
/// keeps their hashes so the chain still verifies across the gap.
pub fn redact_project(conn: &Db, org_id: &str, project_id: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO _smithers_cp_audit_chain_redactions (org_id, id, chain_hash, reason)
         SELECT org_id, id, chain_hash, 'project.delete' FROM _smithers_cp_audit_events
         WHERE org_id = ?1 AND project_id = ?2 AND chain_hash IS NOT NULL",
        params![org_id, project_id],
    )?;
    Ok(())
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChainReport {
    pub ok: bool,
    /// Chained events whose link and hash were checked.
    pub checked: i64,
    /// Events without a hash (written by a store that does not chain).
    pub unchained: i64,
    /// Chained events this store removed on purpose, bridged by their kept hashes.
    pub redacted: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_id: Option<i64>,
}

/// `verifyAuditChain({orgId})`: walks the org's chain in id order. An edited event fails
/// its hash; a deleted one breaks the next link (or, at the end, the chain head); one
/// inserted with a hash breaks its own link.
pub fn verify(conn: &Db, input: &Input) -> Result<ChainReport> {
    let org_id = input.id("orgId")?;
    db::read(conn, |c| {
        let mut redactions: std::collections::BTreeMap<i64, String> = std::collections::BTreeMap::new();
        c.each(
            "SELECT id, chain_hash FROM _smithers_cp_audit_chain_redactions WHERE org_id = ?1 ORDER BY id",
            params![org_id],
            |r| {
                redactions.insert(r.get(0)?, r.get(1)?);
                Ok(())
            },
        )?;
        let mut report = ChainReport { ok: true, checked: 0, unchained: 0, redacted: 0, first_bad_id: None };
        let mut prev = String::new();
        let bad = |report: &mut ChainReport, id: i64| {
            if report.first_bad_id.is_none() {
                report.ok = false;
                report.first_bad_id = Some(id);
            }
        };
        let mut pending = redactions.iter().peekable();
        // In id order straight from the table (NOT INDEXED): through the org's time index
        // SQLite would sort all of the org's events in memory first (270 MB at 1M events);
        // this way memory stays flat, at the cost of passing over other orgs' rows.
        c.each(
            "SELECT id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json, chain_prev, chain_hash,
                    ip_address, user_agent, request_id
             FROM _smithers_cp_audit_events NOT INDEXED WHERE org_id = ?1 ORDER BY id",
            params![org_id],
            |r| {
                let id: i64 = r.get(0)?;
                while let Some((_, hash)) = pending.next_if(|(&gone, _)| gone < id) {
                    prev = hash.clone();
                    report.redacted += 1;
                }
                let (chain_prev, chain_hash): (Option<String>, Option<String>) = (r.get(8)?, r.get(9)?);
                let Some(chain_hash) = chain_hash else {
                    report.unchained += 1;
                    return Ok(());
                };
                let expected = chain_hash_of_row(id, &org_id, r, &prev)?;
                if chain_prev.as_deref() != Some(prev.as_str()) || expected != chain_hash {
                    bad(&mut report, id);
                }
                report.checked += 1;
                prev = chain_hash;
                Ok(())
            },
        )?;
        for (_, hash) in pending {
            prev = hash.clone();
            report.redacted += 1;
        }
        let head: Option<(i64, String, i64)> = c
            .row("SELECT last_id, last_hash, events FROM _smithers_cp_audit_chain_heads WHERE org_id = ?1", params![&org_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        match head {
            Some((last_id, last_hash, events)) => {
                if last_hash != prev || events != report.checked + report.redacted {
                    bad(&mut report, last_id);
                }
            }
            None if report.checked > 0 => bad(&mut report, 0),
            None => {}
        }
        Ok(report)
    })
}

fn chain_hash_of_row(id: i64, org_id: &str, r: &dyn Row, prev: &str) -> Result<String> {
    let (project_id, actor_id, target_id): (Option<String>, Option<String>, Option<String>) = (r.get(1)?, r.get(2)?, r.get(5)?);
    let (action, target_type, metadata_json): (String, String, String) = (r.get(3)?, r.get(4)?, r.get(7)?);
    let origin: [Option<String>; 3] = [r.get(10)?, r.get(11)?, r.get(12)?];
    Ok(chain_hash(
        id,
        org_id,
        project_id.as_deref(),
        actor_id.as_deref(),
        &action,
        &target_type,
        target_id.as_deref(),
        r.get(6)?,
        &metadata_json,
        [origin[0].as_deref(), origin[1].as_deref(), origin[2].as_deref()],
        prev,
    ))
}

/// `recordAuditEvent`: a caller's own event.
pub fn record(conn: &Db, input: &Input) -> Result<AuditEvent> {
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
    let id = db::write(conn, |c| {
        crate::tenancy::orgs::guard(c, ev.org_id, crate::tenancy::orgs::WriteKind::Other)?;
        insert_legacy(c, &ev)
    })?;
    let metadata = ev.metadata;
    let RequestContext { ip_address, user_agent, request_id, .. } = context();
    Ok(AuditEvent { id, org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata, ip_address, user_agent, request_id })
}

/// Calls `f` for each of the org's events in the window, in (occurredAtMs, id) order, one
/// row at a time (for exports of any size).
pub fn for_each_in_window(
    conn: &Db,
    org_id: &str,
    since_ms: i64,
    until_ms: i64,
    mut f: impl FnMut(AuditEvent) -> Result<()>,
) -> Result<()> {
    conn.each(
        &format!("{SELECT} WHERE org_id = ?1 AND occurred_at_ms >= ?2 AND occurred_at_ms <= ?3 ORDER BY occurred_at_ms, id"),
        params![org_id, since_ms, until_ms],
        |row| f(from_row(row)?),
    )
}

/// The org's events with `since <= occurredAtMs <= until`, ordered by (occurredAtMs, id).
pub fn list_window(conn: &Db, org_id: &str, since_ms: i64, until_ms: i64) -> Result<Vec<AuditEvent>> {
    conn.rows(
        &format!("{SELECT} WHERE org_id = ?1 AND occurred_at_ms >= ?2 AND occurred_at_ms <= ?3 ORDER BY occurred_at_ms, id"),
        params![org_id, since_ms, until_ms],
        from_row,
    )
}

/// An audit query's filters, as SQL: only the given ones appear in the text, so that
/// SQLite can pick the index that serves them (org + actor, org + action, org + target,
/// else org + time).
struct AuditQuery {
    sql: String,
    args: Vec<Value>,
    limit: usize,
}

fn build_query(input: &Input) -> Result<AuditQuery> {
    let org_id = input.id("orgId")?;
    let mut clauses = vec!["org_id = ?".to_string()];
    let mut args = vec![Value::String(org_id)];
    for (field, column) in [("projectId", "project_id"), ("actorId", "actor_id"), ("targetId", "target_id")] {
        if let Some(v) = input.opt_id(field)? {
            clauses.push(format!("{column} = ?"));
            args.push(Value::String(v));
        }
    }
    for (field, column) in [("action", "action"), ("targetType", "target_type"), ("ipAddress", "ip_address"), ("requestId", "request_id")] {
        if let Some(v) = input.opt_string(field)? {
            clauses.push(format!("{column} = ?"));
            args.push(Value::String(v));
        }
    }
    let since = input.timestamp_or("sinceMs", 0)?;
    let until = input.timestamp_or("untilMs", crate::validate::MAX_SAFE_INTEGER)?;
    clauses.push("occurred_at_ms >= ? AND occurred_at_ms <= ?".into());
    args.extend([Value::from(since), Value::from(until)]);
    let descending = match input.string_or("order", "asc")?.as_str() {
        "asc" => false,
        "desc" => true,
        _ => return Err(crate::error::CpError::field("order", "order must be one of: asc, desc.")),
    };
    let (limit, cursor) = page::params(input)?;
    if cursor.is_some() {
        let (at, id) = (page::int(&cursor, 0)?, page::int(&cursor, 1)?);
        clauses.push(format!("(occurred_at_ms, id) {} (?, ?)", if descending { "<" } else { ">" }));
        args.extend([Value::from(at), Value::from(id)]);
    }
    let dir = if descending { "DESC" } else { "ASC" };
    // Named, not left to the planner: without statistics it may prefer the org + time
    // index even where an equality on the actor or action narrows the rows far more.
    let has = |field: &str| input.get(field).is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()));
    let index = if has("requestId") {
        "_smithers_cp_audit_org_request_idx"
    } else if has("ipAddress") {
        "_smithers_cp_audit_org_ip_idx"
    } else if has("actorId") {
        "_smithers_cp_audit_org_actor_idx"
    } else if has("action") {
        "_smithers_cp_audit_org_action_idx"
    } else if has("targetType") {
        "_smithers_cp_audit_org_target_idx"
    } else {
        "_smithers_cp_audit_org_time_idx"
    };
    let sql = format!(
        "{} INDEXED BY {index} WHERE {} ORDER BY occurred_at_ms {dir}, id {dir} LIMIT {}",
        SELECT,
        clauses.join(" AND "),
        limit + 1
    );
    Ok(AuditQuery { sql, args, limit })
}

fn to_sql(args: &[Value]) -> Vec<SqlValue<'_>> {
    args.iter()
        .map(|v| match v {
            Value::String(s) => SqlValue::Text(s),
            v => SqlValue::Int(v.as_i64().unwrap_or(0)),
        })
        .collect()
}

/// `queryAuditLog`: one org's events, filtered, in time order (`asc` or `desc`), a page at
/// a time.
pub fn query(conn: &Db, input: &Input) -> Result<Page<AuditEvent>> {
    let q = build_query(input)?;
    let rows = conn.rows(&q.sql, &to_sql(&q.args), from_row)?;
    Ok(page::finish(rows, q.limit, |e| vec![Value::from(e.occurred_at_ms), Value::from(e.id)]))
}

/// `explainAuditQuery`: SQLite's plan for the same query, to show which index serves it.
pub fn explain(conn: &Db, input: &Input) -> Result<Vec<String>> {
    let q = build_query(input)?;
    conn.rows(&format!("EXPLAIN QUERY PLAN {}", q.sql), &to_sql(&q.args), |r| r.get::<String>(3))
}
