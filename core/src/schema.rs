//! The schema: the documented store's tables, unchanged, so that either store can open a
//! file the other wrote; the legacy secret-refs migration; our own schema version. The
//! same base tables in PostgreSQL's types are `postgres`.

pub mod fresh;
pub mod postgres;

use crate::db;
use crate::metering::rollups;
use crate::error::Result;
use crate::db::{has_column, table_exists};
use crate::db::Db;
use crate::params;

/// Bumped when we add a table or column of our own (always additively).
pub(crate) const SCHEMA_VERSION: i64 = 8;

const DOCUMENTED_TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS _smithers_cp_orgs (
  org_id TEXT PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS _smithers_cp_teams (
  org_id TEXT NOT NULL,
  team_id TEXT NOT NULL,
  slug TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, team_id),
  UNIQUE (org_id, slug),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS _smithers_cp_team_members (
  org_id TEXT NOT NULL,
  team_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, team_id, user_id),
  FOREIGN KEY (org_id, team_id) REFERENCES _smithers_cp_teams(org_id, team_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS _smithers_cp_projects (
  org_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  slug TEXT NOT NULL,
  name TEXT NOT NULL,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, project_id),
  UNIQUE (org_id, slug),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS _smithers_cp_project_teams (
  org_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  team_id TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, project_id, team_id),
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, team_id) REFERENCES _smithers_cp_teams(org_id, team_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS _smithers_cp_billing_accounts (
  org_id TEXT PRIMARY KEY,
  plan TEXT NOT NULL,
  billing_customer_id TEXT,
  status TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS _smithers_cp_identity_providers (
  org_id TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  type TEXT NOT NULL,
  issuer TEXT NOT NULL,
  sso_url TEXT,
  certificate_ref TEXT,
  status TEXT NOT NULL,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, provider_id),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_idp_org_status_idx
  ON _smithers_cp_identity_providers(org_id, status);
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id TEXT NOT NULL,
  project_id TEXT,
  run_id TEXT,
  metric TEXT NOT NULL,
  quantity REAL NOT NULL,
  unit TEXT NOT NULL,
  observed_at_ms INTEGER NOT NULL,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_usage_org_time_idx
  ON _smithers_cp_usage_events(org_id, observed_at_ms);
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_limits (
  org_id TEXT NOT NULL,
  project_key TEXT NOT NULL,
  project_id TEXT,
  metric TEXT NOT NULL,
  unit TEXT NOT NULL,
  period TEXT NOT NULL,
  limit_quantity REAL NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, project_key, metric, unit, period),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_usage_limits_org_idx
  ON _smithers_cp_usage_limits(org_id, metric, unit, period);
CREATE TABLE IF NOT EXISTS _smithers_cp_secret_refs (
  org_id TEXT NOT NULL,
  project_key TEXT NOT NULL,
  project_id TEXT,
  name TEXT NOT NULL,
  provider TEXT NOT NULL,
  ref TEXT NOT NULL,
  created_by TEXT,
  created_at_ms INTEGER NOT NULL,
  rotated_at_ms INTEGER,
  PRIMARY KEY (org_id, project_key, name),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS _smithers_cp_audit_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id TEXT NOT NULL,
  project_id TEXT,
  actor_id TEXT,
  action TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id TEXT,
  occurred_at_ms INTEGER NOT NULL,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_time_idx
  ON _smithers_cp_audit_events(org_id, occurred_at_ms);
"#;

/// Our own bookkeeping, in a table of our own: the host owns `PRAGMA user_version`.
const NATIVE_TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS _smithers_cp_native_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
"#;

/// Every table and trigger this version of the schema has (but the rollups' triggers,
/// `rollups::TRIGGERS`); a file holding all of them at this version needs nothing done on
/// open. (The fold's views and triggers are not among them: a connection to a database
/// whose schema was copied in keeps its own, `fresh`.)
const OBJECTS: [&str; 28] = [
    "_smithers_cp_usage_dense_minutes",
    "_smithers_cp_retention",
    "_smithers_cp_usage_purging",
    "_smithers_cp_orgs",
    "_smithers_cp_teams",
    "_smithers_cp_team_members",
    "_smithers_cp_projects",
    "_smithers_cp_project_teams",
    "_smithers_cp_billing_accounts",
    "_smithers_cp_identity_providers",
    "_smithers_cp_usage_events",
    "_smithers_cp_usage_limits",
    "_smithers_cp_secret_refs",
    "_smithers_cp_audit_events",
    "_smithers_cp_native_meta",
    "_smithers_cp_org_quotas",
    "_smithers_cp_audit_chain_heads",
    "_smithers_cp_audit_chain_redactions",
    "_smithers_cp_usage_series",
    "_smithers_cp_usage_rollups",
    "_smithers_cp_usage_rollup_state",
    crate::chain::HEAD_TRIGGER_NAME,
    crate::metering::credits::schema::TABLES[0],
    crate::metering::credits::schema::TABLES[1],
    crate::metering::credits::schema::TABLES[2],
    crate::metering::credits::schema::LEDGER_TRIGGERS[0],
    crate::metering::credits::schema::LEDGER_TRIGGERS[1],
    crate::metering::credits::schema::LEDGER_TRIGGERS[2],
];

/// What a database holds of ours.
#[derive(PartialEq, Eq)]
enum Found {
    /// This version's schema.
    Current,
    /// No table or trigger of ours.
    Nothing,
    /// Some: an earlier version's schema, or the documented store's.
    Earlier,
}

/// What the database holds, and whether it is a database of this connection's own (in
/// memory, or SQLite's private temporary file): no other connection ever opens it. One
/// read, no write, no lock held.
fn found(conn: &Db) -> Result<(Found, bool)> {
    let names = |from: usize, n: usize| (from..from + n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT COALESCE(SUM(name IN ({objects})), 0) AS present, COALESCE(SUM(name IN ({triggers})), 0) AS triggers,
                COUNT(*) AS ours, (SELECT file = '' FROM pragma_database_list WHERE name = 'main') AS own
         FROM sqlite_master WHERE name LIKE '\\_smithers\\_cp\\_%' ESCAPE '\\'",
        objects = names(1, OBJECTS.len()),
        triggers = names(OBJECTS.len() + 1, rollups::TRIGGERS.len()),
    );
    let values: Vec<crate::engine::SqlValue> =
        OBJECTS.iter().chain(rollups::TRIGGERS.iter()).map(|&n| crate::engine::SqlValue::Text(n)).collect();
    let (present, triggers, ours, own): (i64, i64, i64, Option<bool>) =
        conn.one(&sql, &values, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let own = own.unwrap_or(false);
    // The rollups' triggers guard the rollups against other connections' writes; in a
    // database of its own the connection creates them before its first fold.
    let triggers = triggers == rollups::TRIGGERS.len() as i64 || own;
    let state = if ours == 0 {
        Found::Nothing
    } else if present == OBJECTS.len() as i64 && triggers && schema_version(conn)? == Some(SCHEMA_VERSION) {
        Found::Current
    } else {
        Found::Earlier
    };
    Ok((state, own))
}

/// Creates or upgrades every table, in one transaction; safe to call any number of times.
/// A file already at this version is only read (opening costs the same at 10 events or 2M);
/// one that holds nothing of ours gets the whole schema in one script (`fresh`).
pub fn ensure(conn: &Db) -> Result<()> {
    if conn.dialect() == crate::engine::Dialect::Postgres {
        return postgres::ensure(conn);
    }
    if found(conn)?.0 == Found::Current {
        return Ok(());
    }
    // Looked at again under the write lock: another process may have created it meanwhile.
    db::write(conn, |c| match found(c)? {
        (Found::Current, _) => Ok(()),
        (Found::Nothing, own) => c.script(fresh::script(own)?),
        (Found::Earlier, _) => upgrade(c),
    })
}

/// Every step from any earlier schema (or none) to this version's, inside the caller's
/// transaction.
fn upgrade(c: &Db) -> Result<()> {
    migrate_legacy_secret_refs(c)?;
    c.script(DOCUMENTED_TABLES)?;
    finish_legacy_secret_refs(c)?;
    c.script(NATIVE_TABLES)?;
    add_usage_columns(c)?;
    add_lifecycle(c)?;
    add_audit_chain(c)?;
    add_request_context(c)?;
    add_retention(c)?;
    // Credits' grants and usage corrections (version 8).
    c.script(crate::metering::credits::schema::SQLITE)?;
    c.script(crate::metering::credits::schema::SQLITE_LEDGER)?;
    rollups::ensure(c)?;
    c.execute(
        "INSERT INTO _smithers_cp_native_meta (key, value) VALUES ('schema_version', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value
         WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)",
        params![SCHEMA_VERSION.to_string()],
    )?;
    Ok(())
}

/// `upgrade` from nothing, as one transaction (how `fresh` builds its image).
fn create_by_steps(conn: &Db) -> Result<()> {
    db::write(conn, upgrade)
}

pub(crate) fn schema_version(conn: &Db) -> Result<Option<i64>> {
    conn.row(
        "SELECT CAST(value AS INTEGER) AS version FROM _smithers_cp_native_meta WHERE key = 'schema_version'",
        params![],
        |r| r.get(0),
    )
}

/// A usage event's `idempotencyKey`: a nullable column (the documented store never sets
/// it) and a unique index over the keyed rows of each org.
fn add_usage_columns(conn: &Db) -> Result<()> {
    if !has_column(conn, "_smithers_cp_usage_events", "idempotency_key")? {
        conn.script("ALTER TABLE _smithers_cp_usage_events ADD COLUMN idempotency_key TEXT")?;
    }
    conn.script(
        "CREATE UNIQUE INDEX IF NOT EXISTS _smithers_cp_usage_idempotency_idx
           ON _smithers_cp_usage_events(org_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
    )?;
    Ok(())
}

/// Org lifecycle columns (with defaults, so the documented store's inserts still work),
/// per-org resource quotas, and the indexes audit queries use.
fn add_lifecycle(conn: &Db) -> Result<()> {
    for (column, ddl) in [
        ("status", "status TEXT NOT NULL DEFAULT 'active'"),
        ("suspended_at_ms", "suspended_at_ms INTEGER"),
        ("suspend_reason", "suspend_reason TEXT"),
        ("deleted_at_ms", "deleted_at_ms INTEGER"),
    ] {
        if !has_column(conn, "_smithers_cp_orgs", column)? {
            conn.script(&format!("ALTER TABLE _smithers_cp_orgs ADD COLUMN {ddl}"))?;
        }
    }
    conn.script(
        "CREATE INDEX IF NOT EXISTS _smithers_cp_orgs_status_idx ON _smithers_cp_orgs(status, org_id);
         CREATE TABLE IF NOT EXISTS _smithers_cp_org_quotas (
           org_id TEXT PRIMARY KEY,
           max_projects INTEGER,
           max_teams INTEGER,
           max_members_per_team INTEGER,
           max_secret_refs INTEGER,
           max_identity_providers INTEGER,
           updated_at_ms INTEGER NOT NULL,
           FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
         );
         CREATE INDEX IF NOT EXISTS _smithers_cp_team_members_user_idx
           ON _smithers_cp_team_members(org_id, user_id);
         CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_actor_idx
           ON _smithers_cp_audit_events(org_id, actor_id, occurred_at_ms, id);
         CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_action_idx
           ON _smithers_cp_audit_events(org_id, action, occurred_at_ms, id);
         CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_target_idx
           ON _smithers_cp_audit_events(org_id, target_type, target_id, occurred_at_ms, id);",
    )?;
    Ok(())
}

/// The audit hash chain: two nullable columns on the events (the documented store leaves
/// them empty: its events are "unchained"), each org's chain head, and the hashes of
/// events this store removed on purpose (a project's events go with the project).
/// Where each audit event's request came from (version 6): nullable columns, so the
/// documented store's inserts still work, and an index for each of the two that queries
/// filter by, holding only the events that have it.
fn add_request_context(conn: &Db) -> Result<()> {
    for column in ["ip_address", "user_agent", "request_id"] {
        if !has_column(conn, "_smithers_cp_audit_events", column)? {
            conn.script(&format!("ALTER TABLE _smithers_cp_audit_events ADD COLUMN {column} TEXT"))?;
        }
    }
    conn.script(
        "CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_ip_idx
           ON _smithers_cp_audit_events(org_id, ip_address, occurred_at_ms, id) WHERE ip_address IS NOT NULL;
         CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_request_idx
           ON _smithers_cp_audit_events(org_id, request_id, occurred_at_ms, id) WHERE request_id IS NOT NULL;",
    )?;
    Ok(())
}

/// Each org's retention (version 6).
fn add_retention(conn: &Db) -> Result<()> {
    conn.script(
        "CREATE TABLE IF NOT EXISTS _smithers_cp_retention (
           org_id TEXT PRIMARY KEY,
           audit_days INTEGER,
           usage_days INTEGER,
           updated_at_ms INTEGER NOT NULL,
           FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
         );",
    )?;
    Ok(())
}

fn add_audit_chain(conn: &Db) -> Result<()> {
    for column in ["chain_prev", "chain_hash"] {
        if !has_column(conn, "_smithers_cp_audit_events", column)? {
            conn.script(&format!("ALTER TABLE _smithers_cp_audit_events ADD COLUMN {column} TEXT"))?;
        }
    }
    conn.script(
        "CREATE TABLE IF NOT EXISTS _smithers_cp_audit_chain_heads (
           org_id TEXT PRIMARY KEY,
           last_id INTEGER NOT NULL,
           last_hash TEXT NOT NULL,
           events INTEGER NOT NULL,
           FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
         );
         CREATE TABLE IF NOT EXISTS _smithers_cp_audit_chain_redactions (
           org_id TEXT NOT NULL,
           id INTEGER NOT NULL,
           chain_hash TEXT NOT NULL,
           reason TEXT NOT NULL,
           PRIMARY KEY (org_id, id),
           FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
         );",
    )?;
    conn.script(crate::chain::HEAD_TRIGGER)?;
    Ok(())
}

const LEGACY_COLUMNS: &str = "org_id, project_id, name, provider, ref, created_by, created_at_ms, rotated_at_ms";

/// Old files keyed secret refs on a nullable `project_id`. Such a table is moved aside as
/// `_smithers_cp_secret_refs_legacy`; the new table is then created by the DDL and filled
/// by `finish_legacy_secret_refs`, all inside the caller's transaction.
fn migrate_legacy_secret_refs(conn: &Db) -> Result<()> {
    if !table_exists(conn, "_smithers_cp_secret_refs")? || has_column(conn, "_smithers_cp_secret_refs", "project_key")? {
        return Ok(());
    }
    if table_exists(conn, "_smithers_cp_secret_refs_legacy")? {
        // Both old shapes present (a crash of another store mid-migration, then a
        // re-creation of the old table): merge them before moving on.
        conn.script(&format!(
            "INSERT INTO _smithers_cp_secret_refs_legacy ({LEGACY_COLUMNS})
             SELECT {LEGACY_COLUMNS} FROM _smithers_cp_secret_refs;
             DROP TABLE _smithers_cp_secret_refs;"
        ))?;
    } else {
        conn.script("ALTER TABLE _smithers_cp_secret_refs RENAME TO _smithers_cp_secret_refs_legacy")?;
    }
    Ok(())
}

/// Copies the legacy rows into the keyed table and drops the legacy table. Later rows (by
/// `created_at_ms`) win a clash, also against rows already in the new table, which covers
/// a migration that an earlier crash left half done.
fn finish_legacy_secret_refs(conn: &Db) -> Result<()> {
    if !table_exists(conn, "_smithers_cp_secret_refs_legacy")? {
        return Ok(());
    }
    conn.script(&format!(
        "INSERT INTO _smithers_cp_secret_refs (project_key, {LEGACY_COLUMNS})
         SELECT COALESCE(project_id, '__org__'), {LEGACY_COLUMNS}
         FROM _smithers_cp_secret_refs_legacy
         WHERE true
         ORDER BY created_at_ms
         ON CONFLICT(org_id, project_key, name) DO UPDATE SET
           project_id = excluded.project_id,
           provider = excluded.provider,
           ref = excluded.ref,
           created_by = excluded.created_by,
           created_at_ms = excluded.created_at_ms,
           rotated_at_ms = excluded.rotated_at_ms
         WHERE excluded.created_at_ms >= _smithers_cp_secret_refs.created_at_ms;
         DROP TABLE _smithers_cp_secret_refs_legacy;"
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sqlite::SqliteEngine;

    fn legacy_file() -> SqliteEngine {
        let conn = SqliteEngine::open(":memory:").unwrap();
        conn.execute_batch(
            "CREATE TABLE _smithers_cp_orgs (org_id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at_ms INTEGER NOT NULL);
             INSERT INTO _smithers_cp_orgs VALUES ('o1', 'o1', 'O', 1);
             CREATE TABLE _smithers_cp_secret_refs (
               org_id TEXT NOT NULL, project_id TEXT, name TEXT NOT NULL, provider TEXT NOT NULL, ref TEXT NOT NULL,
               created_by TEXT, created_at_ms INTEGER NOT NULL, rotated_at_ms INTEGER,
               PRIMARY KEY (org_id, project_id, name));
             INSERT INTO _smithers_cp_secret_refs VALUES ('o1', NULL, 'k', 'vault', 'old', NULL, 1, NULL);
             INSERT INTO _smithers_cp_secret_refs VALUES ('o1', NULL, 'k', 'vault', 'new', NULL, 5, NULL);
             INSERT INTO _smithers_cp_secret_refs VALUES ('o1', NULL, 'j', 'vault', 'only', NULL, 3, NULL);",
        )
        .unwrap();
        conn
    }

    fn refs(conn: &SqliteEngine) -> Vec<(String, String, String)> {
        let mut stmt = conn.prepare("SELECT project_key, name, ref FROM _smithers_cp_secret_refs ORDER BY name").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(|r| r.unwrap()).collect()
    }

    #[test]
    fn legacy_secret_refs_migrate_with_later_rows_winning() {
        let conn = legacy_file();
        ensure(&conn).unwrap();
        assert!(has_column(&conn, "_smithers_cp_secret_refs", "project_key").unwrap());
        assert!(!table_exists(&conn, "_smithers_cp_secret_refs_legacy").unwrap());
        assert_eq!(
            refs(&conn),
            vec![("__org__".into(), "j".into(), "only".into()), ("__org__".into(), "k".into(), "new".into())]
        );
        ensure(&conn).unwrap();
        assert_eq!(refs(&conn).len(), 2);
        assert_eq!(schema_version(&conn).unwrap(), Some(SCHEMA_VERSION));
    }

    #[test]
    fn a_leftover_legacy_table_is_finished() {
        let conn = legacy_file();
        // The state a crash leaves between the rename and the copy in another store.
        conn.execute_batch("ALTER TABLE _smithers_cp_secret_refs RENAME TO _smithers_cp_secret_refs_legacy").unwrap();
        ensure(&conn).unwrap();
        assert_eq!(refs(&conn).len(), 2);
        assert!(!table_exists(&conn, "_smithers_cp_secret_refs_legacy").unwrap());
    }
}
