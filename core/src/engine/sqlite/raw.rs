//! Raw SQL for the small bun:sqlite-shaped `Database` handle: a caller's own statements on
//! our connection, with positional (`?`, `?1`) or named (`$id`, `:id`, `@id`) parameters.

use crate::error::{CpError, Result};
use crate::engine::{Done, SqlData};
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{Connection, Statement};

/// A statement's parameters as the caller gave them.
pub enum Params {
    Positional(Vec<SqlData>),
    /// Keys with or without their SQL prefix (`$id`, `:id`, `@id` or `id`).
    Named(Vec<(String, SqlData)>),
}

/// The rows of a query: column names, then each row's values in that order.
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlData>>,
}

fn to_sql(value: SqlData) -> Sql {
    match value {
        SqlData::Null => Sql::Null,
        SqlData::Int(i) => Sql::Integer(i),
        SqlData::Real(f) => Sql::Real(f),
        SqlData::Text(s) => Sql::Text(s),
        SqlData::Blob(b) => Sql::Blob(b),
    }
}

fn from_sql(value: ValueRef) -> SqlData {
    match value {
        ValueRef::Null => SqlData::Null,
        ValueRef::Integer(i) => SqlData::Int(i),
        ValueRef::Real(f) => SqlData::Real(f),
        ValueRef::Text(t) => SqlData::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => SqlData::Blob(b.to_vec()),
    }
}

fn bind(stmt: &mut Statement, params: Params) -> Result<()> {
    match params {
        Params::Positional(values) => {
            for (i, v) in values.into_iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, to_sql(v))?;
            }
        }
        Params::Named(values) => {
            for (key, v) in values {
                let index = if key.starts_with(['$', ':', '@']) {
                    stmt.parameter_index(&key)?
                } else {
                    ["$", ":", "@"].iter().find_map(|p| stmt.parameter_index(&format!("{p}{key}")).ok().flatten())
                };
                let index = index.ok_or_else(|| CpError::field("params", format!("No SQL parameter named {key}.")))?;
                stmt.raw_bind_parameter(index, to_sql(v))?;
            }
        }
    }
    Ok(())
}

/// Runs a statement: what it changed, and the last inserted row id.
pub fn run(conn: &Connection, sql: &str, params: Params) -> Result<Done> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let changes = stmt.raw_execute().or_else(|e| match e {
        // A statement that returns rows (e.g. a PRAGMA) still ran.
        rusqlite::Error::ExecuteReturnedResults => Ok(0),
        e => Err(e),
    })?;
    Ok(Done { changes: changes as u64, last_insert_id: conn.last_insert_rowid() })
}

/// Runs a query: up to `limit` rows.
pub fn rows(conn: &Connection, sql: &str, params: Params, limit: usize) -> Result<Rows> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_string).collect();
    let width = columns.len();
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while out.len() < limit {
        let Some(row) = rows.next()? else { break };
        out.push((0..width).map(|i| row.get_ref(i).map(from_sql)).collect::<rusqlite::Result<Vec<_>>>()?);
    }
    Ok(Rows { columns, rows: out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_named_and_blob_parameters_round_trip() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c BLOB, d REAL)").unwrap();
        let values = vec![SqlData::Int(1), SqlData::Text("x".into()), SqlData::Blob(vec![0, 255]), SqlData::Real(1.5)];
        let done = run(&conn, "INSERT INTO t VALUES (?, ?, ?, ?)", Params::Positional(values)).unwrap();
        assert_eq!(done, Done { changes: 1, last_insert_id: 1 });
        let named = vec![("a".to_string(), SqlData::Int(9_007_199_254_740_993)), (":b".to_string(), SqlData::Text("y".into()))];
        run(&conn, "INSERT INTO t (a, b) VALUES ($a, :b)", Params::Named(named)).unwrap();
        let all = rows(&conn, "SELECT * FROM t ORDER BY a", Params::Positional(vec![]), usize::MAX).unwrap();
        assert_eq!(all.columns, vec!["a", "b", "c", "d"]);
        assert_eq!(
            all.rows,
            vec![
                vec![SqlData::Int(1), SqlData::Text("x".into()), SqlData::Blob(vec![0, 255]), SqlData::Real(1.5)],
                vec![SqlData::Int(9_007_199_254_740_993), SqlData::Text("y".into()), SqlData::Null, SqlData::Null],
            ]
        );
        let wrong = run(&conn, "INSERT INTO t (a) VALUES ($nope)", Params::Named(vec![("zzz".into(), SqlData::Int(1))]));
        assert_eq!(wrong.unwrap_err().summary, "No SQL parameter named zzz.");
        let none = rows(&conn, "SELECT a FROM t WHERE a = ?", Params::Positional(vec![SqlData::Int(42)]), 1).unwrap();
        assert!(none.rows.is_empty());
    }
}
