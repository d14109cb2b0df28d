//! The audit chain's write on PostgreSQL, on the server: one round trip for an event.
//!
//! On SQLite `insert` guesses the event's id and the org's chain head, hashes in Rust and
//! writes in one statement. On PostgreSQL the id is drawn from a sequence and the head is
//! read under the org's lock, and each is a round trip (a few milliseconds between
//! machines, with the org's lock held): so the server draws, reads, hashes and writes in
//! one function, `_smithers_cp_audit_insert`, and `recordAuditEvent` is one call of
//! `_smithers_cp_audit_record`, which takes the org's write locks and checks its state
//! first.
//!
//! The hash is `chain_hash`'s: SHA-256 of the canonical JSON array, as serde_json writes
//! it (no spaces; strings escaped as PostgreSQL's `to_json` escapes them: `"`, `\`,
//! `\b \f \n \r \t`, other characters below U+0020 as `\u00XX`, everything else as is), in
//! lower-case hex. `verify` recomputes it in Rust, so a difference would show at once;
//! the tests write events with every kind of character through both.

/// The functions, for the schema to create (`schema::postgres::ensure`).
pub(crate) fn functions() -> String {
    // A value as serde_json writes it in the array: a string quoted and escaped, or null.
    let j = |x: &str| format!("COALESCE(CAST(to_json({x}) AS TEXT), 'null')");
    format!(
        "CREATE OR REPLACE FUNCTION _smithers_cp_audit_insert(
           TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, TEXT, TEXT, TEXT, TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $insert$
         -- $1 org, $2 project, $3 actor, $4 action, $5 target type, $6 target id, $7 occurred
         -- at, $8 metadata JSON, $9 IP address, $10 user agent, $11 request id. Runs in the
         -- caller's transaction, which holds the org's write locks.
         DECLARE
           new_id BIGINT := nextval('_smithers_cp_audit_events_id_seq');
           prev TEXT;
           canonical TEXT;
           hash TEXT;
         BEGIN
           -- The head's row locked too, for writers of raw SQL.
           prev := COALESCE((SELECT h.last_hash FROM _smithers_cp_audit_chain_heads AS h WHERE h.org_id = $1 FOR UPDATE), '');
           canonical := '[' || new_id || ',' || {org} || ',' || {project} || ',' || {actor} || ',' || {action} || ','
             || {target_type} || ',' || {target_id} || ',' || $7 || ',' || {metadata}
             || CASE WHEN $9 IS NULL AND $10 IS NULL AND $11 IS NULL THEN ''
                     ELSE ',[' || {ip} || ',' || {agent} || ',' || {request} || ']' END
             || ',' || {prev} || ']';
           hash := encode(sha256(convert_to(canonical, 'UTF8')), 'hex');
           INSERT INTO _smithers_cp_audit_events
             (org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json, ip_address,
              user_agent, request_id, id, chain_prev, chain_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, new_id, prev, hash);
           RETURN new_id;
         END $insert$;

         DROP FUNCTION IF EXISTS _smithers_cp_audit_record(TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, TEXT, TEXT, TEXT, TEXT);
         CREATE OR REPLACE FUNCTION _smithers_cp_audit_record(
           TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, TEXT, TEXT, TEXT, TEXT, TEXT)
           RETURNS TABLE (c_status TEXT, c_reason TEXT, c_id BIGINT) LANGUAGE plpgsql AS $record$
         -- $1..$11 as `_smithers_cp_audit_insert`'s; $12 the lock_timeout to set
         -- (`Engine::statement_lock_timeout`), or NULL.
         BEGIN
           {opening}
           IF c_status IS NOT NULL AND c_status <> 'deleted' THEN
             c_id := _smithers_cp_audit_insert($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);
           END IF;
           RETURN NEXT;
         END $record$;",
        org = j("$1"),
        project = j("$2"),
        actor = j("$3"),
        action = j("$4"),
        target_type = j("$5"),
        target_id = j("$6"),
        metadata = j("$8"),
        ip = j("$9"),
        agent = j("$10"),
        request = j("$11"),
        prev = j("prev"),
        opening = crate::engine::postgres::org_write_opening("$1", "$12"),
    )
}

/// `_smithers_cp_audit_insert`'s call: the event's id.
pub(crate) const INSERT: &str = "SELECT _smithers_cp_audit_insert(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) AS id";

/// `_smithers_cp_audit_record`'s call: the org's state, and the event's id when written.
pub(crate) const RECORD: &str = "SELECT * FROM _smithers_cp_audit_record(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
