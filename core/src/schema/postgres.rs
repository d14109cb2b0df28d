//! The schema's PostgreSQL form (`postgres.sql`): the SQLite schema's base tables in
//! PostgreSQL's types, with the audit chain's head trigger and the usage rollups (their
//! modules' PostgreSQL forms), created in one transaction under an advisory lock, so that
//! processes starting together against one database do not race to create them
//! (concurrent `CREATE TABLE IF NOT EXISTS` of one table fails in PostgreSQL).

use crate::db::{self, Db};
use crate::engine::{Dialect, SqlValue};
use crate::error::{CpError, Result};
use crate::params;

/// The PostgreSQL form's own version, in `_smithers_cp_native_meta` as SQLite's: 1 had
/// the base tables only; 2 adds the audit chain's head trigger and the usage rollups; 3
/// lets a move from a SQLite file (`transfer`) skip the id and head triggers' per-row
/// bookkeeping, which it does once at its end; 4 numbers ids by sequences and keeps the
/// rollups' watermark per org (`_smithers_cp_usage_rollup_marks`), so writers of
/// different orgs never wait for each other; 5 adds the server-side functions that make a
/// call one round trip (`_smithers_cp_usage_consume`,
/// `_smithers_cp_audit_record`); 6 adds the credits' grants and usage corrections, and
/// the consume function's balance parameter.
pub const VERSION: i64 = 6;

/// The advisory lock the creating transaction holds (released at its end).
pub const MIGRATION_LOCK: i64 = 0x636f_6e74_726f_6c02; // "control" + 2

const TABLES_SQL: &str = include_str!("postgres.sql");

/// The tables `postgres.sql` creates.
pub const TABLES: [&str; 20] = [
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
    "_smithers_cp_retention",
    "_smithers_cp_sequence",
    "_smithers_cp_credit_grants",
    "_smithers_cp_usage_corrections",
    "_smithers_cp_credit_ledger",
];

/// Whether the database has every table at this version: one read, no lock.
fn is_current(conn: &Db) -> Result<bool> {
    let mut sql = String::from(
        "SELECT COUNT(*) AS present FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename IN (",
    );
    sql.push_str(&(1..=TABLES.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", "));
    sql.push(')');
    let names: Vec<SqlValue> = TABLES.iter().map(|&n| SqlValue::Text(n)).collect();
    let present: i64 = conn.one(&sql, &names, |r| r.get(0))?;
    if present != TABLES.len() as i64 {
        return Ok(false);
    }
    Ok(schema_version(conn)? == Some(VERSION))
}

/// A database a newer store brought past our version is not ours to change: an older
/// replica would put back its own triggers and functions (numbering ids its way, folding
/// with one watermark) under the newer replicas' feet. `UNAVAILABLE`, not transient.
fn newer_refused(conn: &Db) -> Result<()> {
    let has_meta: bool = conn.one(
        "SELECT COUNT(*) = 1 AS present FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = '_smithers_cp_native_meta'",
        params![],
        |r| r.get(0),
    )?;
    match if has_meta { schema_version(conn)? } else { None } {
        Some(version) if version > VERSION => Err(CpError::new(
            "UNAVAILABLE",
            format!(
                "PostgreSQL: the database's control-plane schema is version {version}, newer than this store's ({VERSION}): \
                 upgrade smithers-control-plane to use it"
            ),
            Some(serde_json::json!({ "pgCode": null, "transient": false, "schemaVersion": version, "supported": VERSION })),
        )),
        _ => Ok(()),
    }
}

pub fn schema_version(conn: &Db) -> Result<Option<i64>> {
    conn.row(
        "SELECT CAST(value AS BIGINT) AS version FROM _smithers_cp_native_meta WHERE key = 'schema_version'",
        params![],
        |r| r.get(0),
    )
}

/// Creates the tables (in the connection's current schema); safe to call any number of
/// times, from any number of processes at once. A database at this version is only read.
pub fn ensure(conn: &Db) -> Result<()> {
    if conn.dialect() != Dialect::Postgres {
        return Err(CpError::new("INTERNAL", "schema::postgres::ensure needs a PostgreSQL engine", None));
    }
    if is_current(conn)? {
        return Ok(());
    }
    newer_refused(conn)?;
    db::write(conn, |c| {
        c.run("SELECT pg_advisory_xact_lock(?1)", params![MIGRATION_LOCK])?;
        // Another process may have created them while we waited for the lock.
        if is_current(c)? {
            return Ok(());
        }
        c.script(TABLES_SQL)?;
        c.script(crate::metering::credits::schema::POSTGRES)?;
        c.script(crate::metering::credits::schema::POSTGRES_LEDGER)?;
        c.script(crate::chain::POSTGRES_HEAD_TRIGGER)?;
        crate::metering::rollups::ensure_postgres(c)?;
        c.script(&crate::chain::postgres_functions())?;
        c.script(&crate::metering::postgres_functions())?;
        c.script(&crate::tenancy::postgres_functions())?;
        c.execute(
            "INSERT INTO _smithers_cp_native_meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value
             WHERE CAST(_smithers_cp_native_meta.value AS BIGINT) < CAST(excluded.value AS BIGINT)",
            params![VERSION.to_string()],
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests;
