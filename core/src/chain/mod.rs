//! The audit log's primitive: an event written into its org's hash chain, in the
//! caller's transaction (`insert`), and the chain's bookkeeping (its head, kept by a
//! trigger; the hashes of events removed on purpose). Every audited write calls it; the
//! audit log as a feature (recording, querying, verifying, exporting, retention) is
//! `audit`, above the concerns that write.

pub(crate) mod postgres;

pub(crate) use postgres::functions as postgres_functions;

use crate::engine::Both;
use crate::db::Db;
use crate::engine::Dialect;
use crate::error::{CpError, Result};
use crate::params;
use crate::request::RequestContext;
use crate::parents::Parents;
use serde_json::Value;

/// An event about to be written, as the mutations describe it.
pub(crate) struct NewEvent<'a> {
    pub(crate) org_id: &'a str,
    pub(crate) project_id: Option<&'a str>,
    pub(crate) actor_id: Option<&'a str>,
    pub(crate) action: &'a str,
    pub(crate) target_type: &'a str,
    pub(crate) target_id: Option<&'a str>,
    pub(crate) occurred_at_ms: i64,
    pub(crate) metadata: Value,
}

/// The chain hash of an event: SHA-256 over its canonical fields (a JSON array, so no
/// two field lists write the same text) and the previous event's hash. An event with a
/// request context has it in its array too; one without keeps the form events had before
/// contexts existed, so their hashes still verify (and adding or removing a context
/// changes the array, so either breaks the hash).
#[allow(clippy::too_many_arguments)]
pub(crate) fn chain_hash(
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
///
/// One statement when the connection's memo guesses right: the hash covers the event's id
/// and the previous hash, so both are guessed (the id AUTOINCREMENT would give, the org's
/// chain head), the hash computed, and the INSERT writes the event with its id and hash
/// only if both guesses hold (`CHECKED_INSERT`); the trigger on the table moves the head.
/// A wrong or missing guess costs one read of the truth and the INSERT again.
pub(crate) fn insert(conn: &Db, context: &RequestContext, ev: &NewEvent) -> Result<i64> {
    let parents = Parents::project(ev.org_id, ev.project_id);
    let metadata_json = ev.metadata.to_string();
    let actor_id = ev.actor_id.or(context.actor_id.as_deref());
    let origin = [context.ip_address.as_deref(), context.user_agent.as_deref(), context.request_id.as_deref()];
    if conn.dialect() == Dialect::Postgres {
        // Drawn, chained and written on the server (`postgres`): one round trip.
        let values = params![
            ev.org_id, ev.project_id, actor_id, ev.action, ev.target_type, ev.target_id, ev.occurred_at_ms, metadata_json,
            origin[0], origin[1], origin[2]
        ];
        return conn.one(postgres::INSERT, values, |r| r.get(0)).map_err(|e| parents.explain(conn, e));
    }
    // SQLite's engines from here (ours and the caller's handle).
    let write = |id: i64, prev: &str| -> Result<Option<String>> {
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
            prev,
        );
        let done = conn
            .run(
                CHECKED_INSERT,
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
                    origin[2],
                    id,
                    prev,
                    hash
                ],
            )
            .map_err(|e| parents.explain(conn, e))?;
        Ok((done.changes == 1).then_some(hash))
    };
    let memo = conn.memo();
    if let Some((id, prev)) = memo.and_then(|m| m.audit_guess(ev.org_id)) {
        if let Some(hash) = write(id, &prev)? {
            memo.inspect(|m| m.audit_written(ev.org_id, id, &hash));
            return Ok(id);
        }
    }
    let (id, prev): (i64, String) = conn.one(
        "SELECT 1 + max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '_smithers_cp_audit_events'), 0),
                    COALESCE((SELECT MAX(id) FROM _smithers_cp_audit_events), 0)) AS id,
            COALESCE((SELECT last_hash FROM _smithers_cp_audit_chain_heads WHERE org_id = ?1), '') AS prev",
        params![ev.org_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let Some(hash) = write(id, &prev)? else {
        // Only another writer inside our own write transaction could move them.
        return Err(CpError::new("INTERNAL", "The audit chain moved while an event was written to it.", None));
    };
    memo.inspect(|m| m.audit_written(ev.org_id, id, &hash));
    Ok(id)
}

/// Writes an audit event with the id and chain hash given (`?12`, `?14`) only if the id is
/// the one AUTOINCREMENT gives next and `?13` is the org's chain head.
const CHECKED_INSERT: &str = "INSERT INTO _smithers_cp_audit_events
  (org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json, ip_address, user_agent,
   request_id, id, chain_prev, chain_hash)
  SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14
  WHERE ?12 = 1 + max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '_smithers_cp_audit_events'), 0),
                      COALESCE((SELECT MAX(id) FROM _smithers_cp_audit_events), 0))
    AND ?13 = COALESCE((SELECT last_hash FROM _smithers_cp_audit_chain_heads WHERE org_id = ?1), '')";

/// Moves an org's chain head to each chained event written (ours; the documented store's
/// events have no hash and are not in the chain).
pub(crate) const HEAD_TRIGGER: &str = "DROP TRIGGER IF EXISTS _smithers_cp_audit_chain_head;
  CREATE TRIGGER _smithers_cp_audit_chain_head AFTER INSERT ON _smithers_cp_audit_events
  WHEN NEW.chain_hash IS NOT NULL
  BEGIN
    INSERT INTO _smithers_cp_audit_chain_heads (org_id, last_id, last_hash, events) VALUES (NEW.org_id, NEW.id, NEW.chain_hash, 1)
    ON CONFLICT (org_id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, events = events + 1;
  END;";

/// The head trigger's PostgreSQL form: a function, and the trigger that calls it.
pub(crate) const POSTGRES_HEAD_TRIGGER: &str = "CREATE OR REPLACE FUNCTION _smithers_cp_audit_chain_head() RETURNS trigger
  LANGUAGE plpgsql AS $head$
  BEGIN
    INSERT INTO _smithers_cp_audit_chain_heads AS h (org_id, last_id, last_hash, events) VALUES (NEW.org_id, NEW.id, NEW.chain_hash, 1)
    ON CONFLICT (org_id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, events = h.events + 1;
    RETURN NULL;
  END $head$;
  DROP TRIGGER IF EXISTS _smithers_cp_audit_chain_head ON _smithers_cp_audit_events;
  CREATE TRIGGER _smithers_cp_audit_chain_head AFTER INSERT ON _smithers_cp_audit_events
  FOR EACH ROW WHEN (NEW.chain_hash IS NOT NULL AND current_setting('smithers_cp.moving', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION _smithers_cp_audit_chain_head();";

/// The trigger's name, for the schema's list of objects.
pub(crate) const HEAD_TRIGGER_NAME: &str = "_smithers_cp_audit_chain_head";

/// Before this store deletes chained events on purpose (a project's, with the project),
/// keeps their hashes so the chain still verifies across the gap.
pub(crate) fn redact_project(conn: &Db, org_id: &str, project_id: &str) -> Result<()> {
    conn.execute(
        conn.pick(Both {
            sqlite: "INSERT OR IGNORE INTO _smithers_cp_audit_chain_redactions (org_id, id, chain_hash, reason)
         SELECT org_id, id, chain_hash, 'project.delete' FROM _smithers_cp_audit_events
         WHERE org_id = ?1 AND project_id = ?2 AND chain_hash IS NOT NULL",
            postgres: "INSERT INTO _smithers_cp_audit_chain_redactions (org_id, id, chain_hash, reason)
             SELECT org_id, id, chain_hash, 'project.delete' FROM _smithers_cp_audit_events
             WHERE org_id = ?1 AND project_id = ?2 AND chain_hash IS NOT NULL ON CONFLICT DO NOTHING",
        }),
        params![org_id, project_id],
    )?;
    Ok(())
}
