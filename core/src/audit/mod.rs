//! The audit log as a feature: `recordAuditEvent`, the queries, the chain's verification,
//! and the windowed read the export uses (`export`, `retention` beside it). Writing an
//! event into its org's chain is the primitive every mutation shares: `chain`.

pub mod export;
pub mod retention;


use crate::engine::Both;
use crate::db;
use crate::error::{CpError, Result};
use crate::tenancy::orgs::{self, OrgRef, WriteKind};
use crate::parents::Parents;
use crate::page::{self, Page, PageRequest};
use crate::request::{FromInput, JsonObject};
use crate::validate::{parse_metadata, Input, MAX_SAFE_INTEGER};
use crate::params;
use crate::engine::{Dialect, Row, SqlValue};
use crate::chain::{self, chain_hash, NewEvent};
use crate::db::Db;
use crate::request::RequestContext;
use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

/// An event of an org's audit log.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneAuditEvent")]
pub struct AuditEvent {
    pub id: i64,
    pub org_id: String,
    pub project_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub occurred_at_ms: i64,
    #[ts(type = "Record<string, unknown>")]
    pub metadata: Value,
    /// Where the request came from, when the caller said (absent for events without).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub request_id: Option<String>,
}

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

/// A retention purge's batch: up to `batch` of the org's events older than `cutoff`, the
/// oldest first (through the org's time index), each leaving its hash (when it has one) so
/// the chain still verifies across the gap. Runs in the caller's write transaction; the
/// number of events removed.
fn purge_expired(conn: &Db, org_id: &str, cutoff: i64, batch: i64) -> Result<i64> {
    const DUE: &str = "SELECT id FROM _smithers_cp_audit_events WHERE org_id = ?1 AND occurred_at_ms < ?2
                       ORDER BY occurred_at_ms, id LIMIT ?3";
    conn.execute(
        &format!(
            "INSERT {or_ignore}INTO _smithers_cp_audit_chain_redactions (org_id, id, chain_hash, reason)
             SELECT org_id, id, chain_hash, 'retention' FROM _smithers_cp_audit_events
             WHERE id IN ({DUE}) AND chain_hash IS NOT NULL{on_conflict}",
            or_ignore = conn.pick(Both { sqlite: "OR IGNORE ", postgres: "" }),
            on_conflict = conn.pick(Both { sqlite: "", postgres: " ON CONFLICT DO NOTHING" }),
        ),
        params![org_id, cutoff, batch],
    )?;
    Ok(conn.execute(&format!("DELETE FROM _smithers_cp_audit_events WHERE id IN ({DUE})"), params![org_id, cutoff, batch])? as i64)
}

/// What `verifyAuditChain` found.
#[derive(Debug, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneChainReport")]
pub struct ChainReport {
    pub ok: bool,
    /// Chained events whose link and hash were checked.
    pub checked: i64,
    /// Events without a hash (written by a store that does not chain).
    pub unchained: i64,
    /// Chained events this store removed on purpose, bridged by their kept hashes.
    pub redacted: i64,
    /// The first event that fails; 0 when chained events have no chain head.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub first_bad_id: Option<i64>,
}

/// `verifyAuditChain({orgId})`: walks the org's chain in id order. An edited event fails
/// its hash; a deleted one breaks the next link (or, at the end, the chain head); one
/// inserted with a hash breaks its own link.
pub fn verify(conn: &Db, _ctx: &RequestContext, req: OrgRef) -> Result<ChainReport> {
    let OrgRef { org_id } = req;
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
            &format!(
                "SELECT id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json, chain_prev, chain_hash,
                    ip_address, user_agent, request_id
             FROM _smithers_cp_audit_events{} WHERE org_id = ?1 ORDER BY id",
                c.pick(Both { sqlite: " NOT INDEXED", postgres: "" })
            ),
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

/// `recordAuditEvent`'s input: a caller's own event.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneRecordAuditEventInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct RecordAuditEvent {
    pub org_id: String,
    pub project_id: Option<String>,
    /// The request context's actor when missing.
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    /// Now when missing.
    #[ts(as = "Option<i64>")]
    pub occurred_at_ms: i64,
    /// A JSON object (at most 64 KiB of JSON, 16 levels deep); `{}` when missing.
    #[ts(as = "Option<JsonObject>")]
    pub metadata: Value,
}

impl FromInput for RecordAuditEvent {
    fn from_input(input: &Input) -> Result<Self> {
        // In the order the store has always read them, so the same field is named first.
        let org_id = input.id("orgId")?;
        let project_id = input.opt_id("projectId")?;
        let occurred_at_ms = input.timestamp("occurredAtMs")?;
        let (metadata, _) = input.metadata("metadata")?;
        let actor_id = input.opt_id("actorId")?;
        let action = input.string("action")?;
        let target_type = input.string("targetType")?;
        let target_id = input.opt_id("targetId")?;
        Ok(RecordAuditEvent { org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata })
    }
}

/// `recordAuditEvent`: a caller's own event, with the request's origin.
pub fn record(conn: &Db, ctx: &RequestContext, req: RecordAuditEvent) -> Result<AuditEvent> {
    let RecordAuditEvent { org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata } = req;
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
    let id = if conn.dialect() == Dialect::Postgres {
        record_postgres(conn, ctx, &ev)?
    } else {
        db::write_org(conn, ev.org_id, |c| {
            orgs::guard(c, ev.org_id, WriteKind::Other)?;
            chain::insert(c, ctx, &ev)
        })?
    };
    let metadata = ev.metadata;
    let (ip_address, user_agent, request_id) = (ctx.ip_address.clone(), ctx.user_agent.clone(), ctx.request_id.clone());
    Ok(AuditEvent { id, org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata, ip_address, user_agent, request_id })
}

/// `recordAuditEvent` on PostgreSQL: one call of `_smithers_cp_audit_record`, which takes
/// the org's write locks, checks its state and writes the event (`chain::postgres`).
fn record_postgres(conn: &Db, ctx: &RequestContext, ev: &NewEvent) -> Result<i64> {
    let actor_id = ev.actor_id.or(ctx.actor_id.as_deref());
    let metadata_json = ev.metadata.to_string();
    let lock_timeout = conn.statement_lock_timeout();
    let values = params![
        ev.org_id, ev.project_id, actor_id, ev.action, ev.target_type, ev.target_id, ev.occurred_at_ms, metadata_json,
        ctx.ip_address, ctx.user_agent, ctx.request_id, lock_timeout
    ];
    let parents = Parents::project(ev.org_id, ev.project_id);
    let (state, id) = conn
        .one(crate::chain::postgres::RECORD, values, |r| {
            let status: Option<String> = r.get(0)?;
            let state = match status {
                Some(status) => Some((status, r.get::<Option<String>>(1)?)),
                None => None,
            };
            Ok((state, r.get::<Option<i64>>(2)?))
        })
        .map_err(|e| parents.explain(conn, e))?;
    orgs::guard_state(ev.org_id, state, WriteKind::Other)?;
    id.ok_or_else(|| CpError::new("INTERNAL", "recordAuditEvent: the server's function wrote no event.", None))
}

/// Calls `f` for each of the org's events in the window, in (occurredAtMs, id) order, one
/// row at a time (for exports of any size).
fn for_each_in_window(
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
fn list_window(conn: &Db, org_id: &str, since_ms: i64, until_ms: i64) -> Result<Vec<AuditEvent>> {
    conn.rows(
        &format!("{SELECT} WHERE org_id = ?1 AND occurred_at_ms >= ?2 AND occurred_at_ms <= ?3 ORDER BY occurred_at_ms, id"),
        params![org_id, since_ms, until_ms],
        from_row,
    )
}

/// The order of an audit query's events, by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, TS)]
#[ts(rename = "ControlPlaneAuditOrder", rename_all = "lowercase")]
pub enum AuditOrder {
    #[default]
    Asc,
    Desc,
}

/// `queryAuditLog`'s and `explainAuditQuery`'s input: one org's events, the given filters
/// all applying.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneAuditQuery", rename_all = "camelCase", optional_fields = nullable)]
pub struct AuditQuery {
    pub org_id: String,
    pub project_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// 0 when missing.
    #[ts(as = "Option<i64>")]
    pub since_ms: i64,
    /// The end of time when missing. Both ends inclusive.
    #[ts(as = "Option<i64>")]
    pub until_ms: i64,
    /// `asc` when missing.
    pub order: Option<AuditOrder>,
    pub ip_address: Option<String>,
    pub request_id: Option<String>,
    #[ts(flatten)]
    pub page: PageRequest,
}

impl FromInput for AuditQuery {
    fn from_input(input: &Input) -> Result<Self> {
        // In the order the store has always read them, so the same field is named first.
        let org_id = input.id("orgId")?;
        let project_id = input.opt_id("projectId")?;
        let actor_id = input.opt_id("actorId")?;
        let target_id = input.opt_id("targetId")?;
        let action = input.opt_string("action")?;
        let target_type = input.opt_string("targetType")?;
        let ip_address = input.opt_string("ipAddress")?;
        let request_id = input.opt_string("requestId")?;
        let since_ms = input.timestamp_or("sinceMs", 0)?;
        let until_ms = input.timestamp_or("untilMs", MAX_SAFE_INTEGER)?;
        let order = match input.string_or("order", "asc")?.as_str() {
            "asc" => AuditOrder::Asc,
            "desc" => AuditOrder::Desc,
            _ => return Err(CpError::field("order", "order must be one of: asc, desc.")),
        };
        let page = PageRequest::from_input(input)?;
        Ok(AuditQuery {
            org_id,
            project_id,
            actor_id,
            action,
            target_type,
            target_id,
            since_ms,
            until_ms,
            order: Some(order),
            ip_address,
            request_id,
            page,
        })
    }
}

/// An audit query's filters, as SQL: only the given ones appear in the text, so that
/// SQLite can pick the index that serves them (org + actor, org + action, org + target,
/// else org + time).
struct QuerySql<'a> {
    sql: String,
    args: Vec<SqlValue<'a>>,
    limit: usize,
}

fn build_query(q: &AuditQuery, dialect: Dialect) -> Result<QuerySql<'_>> {
    let mut clauses = vec!["org_id = ?".to_string()];
    let mut args = vec![SqlValue::Text(&q.org_id)];
    let filters = [
        (&q.project_id, "project_id"),
        (&q.actor_id, "actor_id"),
        (&q.target_id, "target_id"),
        (&q.action, "action"),
        (&q.target_type, "target_type"),
        (&q.ip_address, "ip_address"),
        (&q.request_id, "request_id"),
    ];
    for (value, column) in filters {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?"));
            args.push(SqlValue::Text(v));
        }
    }
    clauses.push("occurred_at_ms >= ? AND occurred_at_ms <= ?".into());
    args.extend([SqlValue::Int(q.since_ms), SqlValue::Int(q.until_ms)]);
    let descending = q.order.unwrap_or_default() == AuditOrder::Desc;
    let PageRequest { limit, cursor } = &q.page;
    if cursor.is_some() {
        let (at, id) = (page::int(cursor, 0)?, page::int(cursor, 1)?);
        clauses.push(format!("(occurred_at_ms, id) {} (?, ?)", if descending { "<" } else { ">" }));
        // A key part the cursor lacks cannot be: `page::int` refuses such a cursor.
        args.extend([SqlValue::Int(at.unwrap_or(0)), SqlValue::Int(id.unwrap_or(0))]);
    }
    let dir = if descending { "DESC" } else { "ASC" };
    // Named, not left to the planner: without statistics it may prefer the org + time
    // index even where an equality on the actor or action narrows the rows far more.
    let index = if q.request_id.is_some() {
        "_smithers_cp_audit_org_request_idx"
    } else if q.ip_address.is_some() {
        "_smithers_cp_audit_org_ip_idx"
    } else if q.actor_id.is_some() {
        "_smithers_cp_audit_org_actor_idx"
    } else if q.action.is_some() {
        "_smithers_cp_audit_org_action_idx"
    } else if q.target_type.is_some() {
        "_smithers_cp_audit_org_target_idx"
    } else {
        "_smithers_cp_audit_org_time_idx"
    };
    // PostgreSQL names no index in a query; its planner has the statistics.
    let indexed = Both { sqlite: " INDEXED BY ", postgres: "" }.pick(dialect);
    let index = Both { sqlite: index, postgres: "" }.pick(dialect);
    let sql = format!(
        "{}{indexed}{index} WHERE {} ORDER BY occurred_at_ms {dir}, id {dir} LIMIT {}",
        SELECT,
        clauses.join(" AND "),
        limit + 1
    );
    Ok(QuerySql { sql, args, limit: *limit })
}

/// `queryAuditLog`: one org's events, filtered, in time order (`asc` or `desc`), a page at
/// a time.
pub fn query(conn: &Db, _ctx: &RequestContext, req: AuditQuery) -> Result<Page<AuditEvent>> {
    let q = build_query(&req, conn.dialect())?;
    let rows = conn.rows(&q.sql, &q.args, from_row)?;
    Ok(page::finish(rows, q.limit, |e| vec![Value::from(e.occurred_at_ms), Value::from(e.id)]))
}

/// `explainAuditQuery`: the database's plan for the same query, to show which index serves
/// it (SQLite's `EXPLAIN QUERY PLAN` details; PostgreSQL's `EXPLAIN` lines).
pub fn explain(conn: &Db, _ctx: &RequestContext, req: AuditQuery) -> Result<Vec<String>> {
    let q = build_query(&req, conn.dialect())?;
    match conn.dialect() {
        Dialect::Sqlite => conn.rows(&format!("EXPLAIN QUERY PLAN {}", q.sql), &q.args, |r| r.get::<String>(3)),
        Dialect::Postgres => conn.rows(&format!("EXPLAIN {}", q.sql), &q.args, |r| r.get::<String>(0)),
    }
}
