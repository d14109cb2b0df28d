//! A create of one org's row on PostgreSQL in one round trip: the server-side function
//! `_smithers_cp_create`.
//!
//! On SQLite a create is a `BEGIN IMMEDIATE` transaction of small statements: the org's
//! state, its quota, the row, its audit event. On PostgreSQL each is a round trip (6 with
//! `BEGIN` and `COMMIT`, the org's lock held across them), so the function does them on
//! the server, in the call's own transaction: the org's write locks, its state (a create
//! needs an org neither deleted nor suspended), the quota's limit and count, the row (inserted from JSON through
//! `jsonb_populate_record`, only the columns given, so the table's defaults hold), and the
//! audit event (`_smithers_cp_audit_insert`). It stops without writing when the org
//! refuses or the quota is full, and says which: the errors are built here, as on SQLite.
//! A duplicate or a missing parent fails the INSERT, and the caller maps the constraint as
//! it does on SQLite.

use crate::chain::NewEvent;
use crate::db::Db;
use crate::engine::postgres::org_write_opening;
use crate::error::Result;
use crate::request::RequestContext;
use crate::tenancy::orgs::{self, WriteKind};
use crate::tenancy::quotas::{self, Resource};
use serde_json::Value;

/// The function, for the schema to create (`schema::postgres::ensure`).
pub(crate) fn functions() -> String {
    format!(
        "DROP FUNCTION IF EXISTS _smithers_cp_create(TEXT, TEXT, JSONB, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, TEXT, TEXT, TEXT, TEXT);
         CREATE OR REPLACE FUNCTION _smithers_cp_create(
           p_org TEXT, p_table TEXT, p_row JSONB, p_limit_column TEXT, p_count_table TEXT,
           p_project TEXT, p_actor TEXT, p_action TEXT, p_target_type TEXT, p_target_id TEXT, p_at BIGINT,
           p_metadata TEXT, p_ip TEXT, p_agent TEXT, p_request TEXT, p_lock_timeout TEXT)
           RETURNS TABLE (c_status TEXT, c_reason TEXT, c_limit BIGINT, c_used BIGINT, c_audit_id BIGINT)
           LANGUAGE plpgsql AS $create$
         DECLARE
           columns TEXT;
         BEGIN
           {opening}
           -- As `orgs::guard_state` for a create: a missing, deleted or suspended org.
           IF c_status IS NULL OR c_status IN ('deleted', 'suspended') THEN
             RETURN NEXT;
             RETURN;
           END IF;
           IF p_limit_column IS NOT NULL THEN
             EXECUTE format('SELECT %I FROM _smithers_cp_org_quotas WHERE org_id = $1', p_limit_column) INTO c_limit USING p_org;
             IF c_limit IS NOT NULL THEN
               EXECUTE format('SELECT COUNT(*) FROM %I WHERE org_id = $1', p_count_table) INTO c_used USING p_org;
               IF c_used >= c_limit THEN
                 RETURN NEXT;
                 RETURN;
               END IF;
             END IF;
           END IF;
           SELECT string_agg(quote_ident(k), ', ') INTO columns FROM jsonb_object_keys(p_row) AS k;
           EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM jsonb_populate_record(NULL::%I, $1)', p_table, columns, columns, p_table)
             USING p_row;
           c_audit_id := _smithers_cp_audit_insert(p_org, p_project, p_actor, p_action, p_target_type, p_target_id, p_at,
             p_metadata, p_ip, p_agent, p_request);
           RETURN NEXT;
         END $create$;",
        opening = org_write_opening("p_org", "p_lock_timeout"),
    )
}

const CALL: &str = "SELECT * FROM _smithers_cp_create(?1, ?2, CAST(?3 AS JSONB), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

/// A create on PostgreSQL: `row` (column → value) into `table`, counted against `quota`
/// (a resource counted per org, as the function counts: not `MEMBERS_PER_TEAM`), with its
/// audit event `event`. A failed INSERT's error goes through `map_insert`, as the
/// SQLite form maps it.
pub(crate) fn create(
    conn: &Db,
    ctx: &RequestContext,
    table: &str,
    row: serde_json::Map<String, Value>,
    quota: Option<&Resource>,
    event: &NewEvent,
    map_insert: impl FnOnce(crate::error::CpError) -> crate::error::CpError,
) -> Result<()> {
    let row = Value::Object(row).to_string();
    let metadata = event.metadata.to_string();
    let actor = event.actor_id.or(ctx.actor_id.as_deref());
    let (limit_column, count_table) = (quota.map(Resource::column), quota.map(Resource::table));
    let lock_timeout = conn.statement_lock_timeout();
    let params = crate::params![
        event.org_id,
        table,
        row,
        limit_column,
        count_table,
        event.project_id,
        actor,
        event.action,
        event.target_type,
        event.target_id,
        event.occurred_at_ms,
        metadata,
        ctx.ip_address,
        ctx.user_agent,
        ctx.request_id,
        lock_timeout
    ];
    let (state, limit, used) = conn
        .one(CALL, params, |r| {
            let status: Option<String> = r.get(0)?;
            let state = match status {
                Some(status) => Some((status, r.get::<Option<String>>(1)?)),
                None => None,
            };
            Ok((state, r.get::<Option<i64>>(2)?, r.get::<Option<i64>>(3)?))
        })
        .map_err(map_insert)?;
    orgs::guard_state(event.org_id, state, WriteKind::Create)?;
    if let (Some(resource), Some(limit), Some(used)) = (quota, limit, used) {
        if used >= limit {
            return Err(quotas::exceeded(resource, event.org_id, limit, used));
        }
    }
    Ok(())
}
