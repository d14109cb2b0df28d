//! The database as a whole, for operators (the CLI's `init`, `stats` and `doctor`): its
//! schema version, the rows in each of the store's tables, and SQLite's integrity check.

use crate::engine::Both;
use crate::db::{self, Db};
use crate::error::Result;
use crate::params;
use crate::request::{FromInput, RequestContext};
use crate::schema;
use crate::validate::Input;
use serde::Serialize;
use ts_rs::TS;

/// The operations that take no input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NoInput;

impl FromInput for NoInput {
    fn from_input(_input: &Input) -> Result<Self> {
        Ok(NoInput)
    }
}

/// One of the store's tables and its rows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(rename = "ControlPlaneTableRows")]
pub struct TableRows {
    pub table: String,
    pub rows: i64,
}

/// What `stats()` reports.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneStats")]
pub struct Stats {
    /// The store's schema version in this database.
    pub schema_version: i64,
    /// Every `_smithers_cp_` table, by name.
    pub tables: Vec<TableRows>,
}

/// `stats()`: the schema version and the rows of each of the store's tables, from one
/// snapshot.
pub fn stats(conn: &Db, _ctx: &RequestContext, _req: NoInput) -> Result<Stats> {
    db::read(conn, |c| {
        let schema_version = schema::schema_version(c)?.unwrap_or(0);
        let names: Vec<String> = c.rows(
            c.pick(Both {
                sqlite: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_smithers\\_cp\\_%' ESCAPE '\\' ORDER BY name",
                // Ordered by the names' bytes, as SQLite orders them, whatever the database's collation.
                postgres: "SELECT tablename::text AS name FROM pg_catalog.pg_tables
                 WHERE schemaname = current_schema() AND tablename LIKE '\\_smithers\\_cp\\_%' ESCAPE '\\'
                 ORDER BY tablename::text COLLATE \"C\"",
            }),
            params![],
            |r| r.get(0),
        )?;
        let mut tables = Vec::with_capacity(names.len());
        for table in names {
            // The names come from sqlite_master and match the pattern above: safe to splice.
            let rows = c.one(&format!("SELECT COUNT(*) AS n FROM {table}"), params![], |r| r.get(0))?;
            tables.push(TableRows { table, rows });
        }
        Ok(Stats { schema_version, tables })
    })
}

/// What `checkIntegrity()` reports.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(rename = "ControlPlaneIntegrity")]
pub struct Integrity {
    /// `"ok"`, or SQLite's first report of what is wrong.
    pub integrity: String,
}

/// `checkIntegrity()`: SQLite's `PRAGMA integrity_check` over the whole database.
pub fn check_integrity(conn: &Db, _ctx: &RequestContext, _req: NoInput) -> Result<Integrity> {
    // PostgreSQL keeps no such check of its own over a database (its amcheck is an
    // extension): the server answers for its storage, so the answer is "ok" once it is
    // reached.
    let sql = conn.pick(Both { sqlite: "PRAGMA integrity_check", postgres: "SELECT 'ok' AS integrity" });
    Ok(Integrity { integrity: conn.one(sql, params![], |r| r.get(0))? })
}
