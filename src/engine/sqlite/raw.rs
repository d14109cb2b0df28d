//! Raw SQL for the small bun:sqlite-shaped `Database` handle: parameters in and rows out as
//! JSON. Blobs travel as `{"$blob": "<hex>"}` and 64-bit integers from JavaScript BigInts as
//! `{"$int": "<decimal>"}`, since JSON has neither.

use crate::core::error::{CpError, Result};
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{Connection, Statement};
use serde_json::{json, Map, Number, Value};

fn to_sql(value: &Value) -> Result<Sql> {
    Ok(match value {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Sql::Text(s.clone()),
        Value::Object(o) if o.len() == 1 => match (o.get("$blob"), o.get("$int")) {
            (Some(Value::String(hex)), _) => Sql::Blob(from_hex(hex)?),
            (_, Some(Value::String(int))) => Sql::Integer(
                int.parse().map_err(|_| CpError::field("params", format!("{int} does not fit a 64-bit integer.")))?,
            ),
            _ => return Err(unsupported()),
        },
        _ => return Err(unsupported()),
    })
}

fn unsupported() -> CpError {
    CpError::field("params", "SQL parameters must be null, boolean, number, bigint, string or Uint8Array.")
}

fn from_hex(hex: &str) -> Result<Vec<u8>> {
    let bad = || CpError::field("params", "a blob parameter is not valid hex.");
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad())).collect()
}

fn to_json(value: ValueRef) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Number(i.into()),
        ValueRef::Real(f) => Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => json!({ "$blob": b.iter().map(|x| format!("{x:02x}")).collect::<String>() }),
    }
}

/// Binds positional (a JSON array) or named (a JSON object) parameters. Named keys may be
/// written with or without their SQL prefix (`$id`, `:id`, `@id` or `id`).
fn bind(stmt: &mut Statement, params: &Value) -> Result<()> {
    match params {
        Value::Array(values) => {
            for (i, v) in values.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, to_sql(v)?)?;
            }
        }
        Value::Object(map) => {
            for (key, v) in map {
                let index = if key.starts_with(['$', ':', '@']) {
                    stmt.parameter_index(key)?
                } else {
                    ["$", ":", "@"]
                        .iter()
                        .find_map(|p| stmt.parameter_index(&format!("{p}{key}")).ok().flatten())
                };
                let index = index.ok_or_else(|| CpError::field("params", format!("No SQL parameter named {key}.")))?;
                stmt.raw_bind_parameter(index, to_sql(v)?)?;
            }
        }
        Value::Null => {}
        _ => return Err(unsupported()),
    }
    Ok(())
}

fn parse_params(params_json: &str) -> Result<Value> {
    serde_json::from_str(params_json).map_err(|e| CpError::field("params", format!("params are not valid JSON: {e}")))
}

/// Runs a statement; returns `{changes, lastInsertRowid}` as JSON.
pub fn run(conn: &Connection, sql: &str, params_json: &str) -> Result<String> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, &parse_params(params_json)?)?;
    let changes = stmt.raw_execute().or_else(|e| match e {
        // A statement that returns rows (e.g. a PRAGMA) still ran.
        rusqlite::Error::ExecuteReturnedResults => Ok(0),
        e => Err(e),
    })?;
    Ok(json!({ "changes": changes, "lastInsertRowid": conn.last_insert_rowid() }).to_string())
}

/// Runs a query and returns up to `limit` rows as a JSON array of objects.
pub fn rows(conn: &Connection, sql: &str, params_json: &str, limit: usize) -> Result<String> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, &parse_params(params_json)?)?;
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(row) = rows.next()? else { break };
        let mut obj = Map::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            obj.insert(name.clone(), to_json(row.get_ref(i)?));
        }
        out.push(Value::Object(obj));
    }
    Ok(Value::Array(out).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_named_and_blob_parameters_round_trip() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c BLOB, d REAL)").unwrap();
        let out = run(&conn, "INSERT INTO t VALUES (?, ?, ?, ?)", r#"[1, "x", {"$blob": "00ff"}, 1.5]"#).unwrap();
        assert_eq!(out, r#"{"changes":1,"lastInsertRowid":1}"#);
        run(&conn, "INSERT INTO t (a, b) VALUES ($a, :b)", r#"{"a": {"$int": "9007199254740993"}, ":b": "y"}"#)
            .unwrap();
        let all = rows(&conn, "SELECT * FROM t ORDER BY a", "[]", usize::MAX).unwrap();
        assert_eq!(
            all,
            r#"[{"a":1,"b":"x","c":{"$blob":"00ff"},"d":1.5},{"a":9007199254740993,"b":"y","c":null,"d":null}]"#
        );
        assert!(run(&conn, "INSERT INTO t (a) VALUES ($nope)", r#"{"zzz": 1}"#).is_err());
        assert_eq!(rows(&conn, "SELECT a FROM t WHERE a = ?", "[42]", 1).unwrap(), "[]");
    }
}
