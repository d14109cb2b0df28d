//! This version's whole schema, built once per process on an in-memory database of ours,
//! in the forms a new store takes it in: the database's image (copied into a new
//! in-memory connection of ours, `sqlite3_deserialize`) and SQL scripts (run in one `exec`
//! on a handle that holds nothing of ours yet). Either way a new store skips the upgrade
//! steps (their reads of what is there, their DDL one statement at a time).
//!
//! None holds the fold's views and triggers, and the image and the script for a database
//! of the connection's own (in memory) do not hold the rollups' triggers either: a
//! connection creates them as TEMP objects before its first fold
//! (`rollups::ready_to_fold`), so that opening a new store parses 14 KB less of
//! triggers. A file keeps the rollups' triggers: they guard its rollups against every
//! connection's writes.

use crate::engine::sqlite::SqliteEngine;
use crate::error::Result;
use crate::metering::rollups;
use rusqlite::types::ValueRef;
use rusqlite::MAIN_DB;
use std::fmt::Write;
use std::sync::OnceLock;

struct Fresh {
    image: Vec<u8>,
    /// For a file, with the rollups' triggers.
    file_script: String,
    /// For a database of the connection's own, without them.
    own_script: String,
}

fn fresh() -> Result<&'static Fresh> {
    static FRESH: OnceLock<Fresh> = OnceLock::new();
    if let Some(fresh) = FRESH.get() {
        return Ok(fresh);
    }
    let built = build()?;
    Ok(FRESH.get_or_init(|| built))
}

/// The image of an in-memory database holding this version's schema (and its rows).
pub fn image() -> Result<&'static [u8]> {
    Ok(&fresh()?.image)
}

/// The DDL and rows of the schema, as one script (no transaction of its own): for a
/// database of the connection's own (`own`), or for a file.
pub(crate) fn script(own: bool) -> Result<&'static str> {
    let fresh = fresh()?;
    Ok(if own { &fresh.own_script } else { &fresh.file_script })
}

fn build() -> Result<Fresh> {
    let mut engine = SqliteEngine::open(":memory:")?;
    super::create_by_steps(&engine)?;
    let [view, tail, densify_view, densify] = rollups::FOLD_OBJECTS;
    engine.execute_batch(&format!(
        "DROP TRIGGER {tail}; DROP TRIGGER {densify}; DROP VIEW {view}; DROP VIEW {densify_view};"
    ))?;
    let file_script = script_of(&engine)?;
    for trigger in rollups::TRIGGERS {
        engine.execute_batch(&format!("DROP TRIGGER {trigger};"))?;
    }
    let own_script = script_of(&engine)?;
    let image = engine.conn_mut().serialize(MAIN_DB)?.to_vec();
    Ok(Fresh { image, file_script, own_script })
}

/// Every object's DDL in the order it was created (SQLite keeps a column added later in
/// its table's `CREATE TABLE`), then every row. SQLite makes `sqlite_sequence` and the
/// indexes of keys itself.
fn script_of(conn: &rusqlite::Connection) -> Result<String> {
    let mut script = String::new();
    let mut tables = Vec::new();
    let mut ddl = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name <> 'sqlite_sequence' ORDER BY rowid",
    )?;
    let mut rows = ddl.query([])?;
    while let Some(row) = rows.next()? {
        let (kind, name, sql): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let _ = writeln!(script, "{sql};");
        if kind == "table" {
            tables.push(name);
        }
    }
    tables.push("sqlite_sequence".into());
    for table in tables {
        let mut select = conn.prepare(&format!("SELECT * FROM \"{table}\""))?;
        let columns = select.column_count();
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let values = (0..columns).map(|i| row.get_ref(i).map(literal)).collect::<rusqlite::Result<Vec<_>>>()?;
            let _ = writeln!(script, "INSERT INTO \"{table}\" VALUES ({});", values.join(", "));
        }
    }
    Ok(script)
}

fn literal(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => format!("{f:?}"),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''")),
        ValueRef::Blob(b) => format!("X'{}'", b.iter().map(|x| format!("{x:02X}")).collect::<String>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every object (but the fold's views and triggers, and the rollups' triggers unless
    /// `with_triggers`) and every row, in a stable order.
    fn contents(conn: &rusqlite::Connection, with_triggers: bool) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT type || ' ' || name || ' ' || tbl_name || ' ' || COALESCE(sql, '') FROM sqlite_master ORDER BY name")
            .unwrap();
        let mut out: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
        out.retain(|o| !rollups::FOLD_OBJECTS.iter().any(|f| o.contains(&format!(" {f} "))));
        if !with_triggers {
            out.retain(|o| !rollups::TRIGGERS.iter().any(|t| o.contains(&format!(" {t} "))));
        }
        out.extend(script_of(conn).unwrap().lines().filter(|l| l.starts_with("INSERT")).map(String::from));
        out
    }

    #[test]
    fn the_scripts_and_the_image_hold_what_the_steps_create() {
        let steps = SqliteEngine::open(":memory:").unwrap();
        super::super::create_by_steps(&steps).unwrap();
        assert!(contents(&steps, true).iter().any(|o| o.starts_with("INSERT INTO \"_smithers_cp_native_meta\"")));

        // A database holding nothing of ours is given a script by `ensure`: in memory the
        // one without the rollups' triggers, on a file the one with them.
        let scripted = SqliteEngine::open(":memory:").unwrap();
        super::super::ensure(&scripted).unwrap();
        assert_eq!(contents(&scripted, true), contents(&steps, false));
        let (dir, on_file) = crate::tests::empty_file("fresh-scripts");
        super::super::ensure(&on_file).unwrap();
        assert_eq!(contents(&on_file, true), contents(&steps, true));

        let mut copied = SqliteEngine::open(":memory:").unwrap();
        let image = image().unwrap();
        copied.conn_mut().deserialize_read_exact(MAIN_DB, image, image.len(), false).unwrap();
        assert_eq!(contents(&copied, true), contents(&steps, false));
        // All are current: opening them again writes nothing.
        for conn in [&scripted, &copied, &on_file] {
            let changes = conn.total_changes();
            super::super::ensure(conn).unwrap();
            assert_eq!(conn.total_changes(), changes);
            assert_eq!(super::super::schema_version(conn).unwrap(), Some(super::super::SCHEMA_VERSION));
        }
        drop(on_file);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A file without the rollups' triggers (an in-memory store's image written to a file)
    /// is not current: opening it adds them, and checks the rollups against the events.
    #[test]
    fn a_file_without_the_rollups_triggers_gets_them() {
        let (dir, conn) = crate::tests::empty_file("fresh-without-triggers");
        conn.execute_batch(script(true).unwrap()).unwrap();
        super::super::ensure(&conn).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%usage_rollup%'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, rollups::TRIGGERS.len() as i64);
        drop(conn);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A user's own table in the database does not make it ours: the script still runs.
    #[test]
    fn a_handle_with_tables_of_its_own_still_gets_the_script() {
        let conn = SqliteEngine::open(":memory:").unwrap();
        conn.execute_batch("CREATE TABLE gateway_sessions (id TEXT PRIMARY KEY); INSERT INTO gateway_sessions VALUES ('s');").unwrap();
        super::super::ensure(&conn).unwrap();
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM gateway_sessions", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        assert_eq!(super::super::schema_version(&conn).unwrap(), Some(super::super::SCHEMA_VERSION));
    }
}
