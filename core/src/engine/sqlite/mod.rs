//! The engine on a rusqlite connection of our own: opening files (WAL, owner-only mode),
//! the background checkpoints, and running the core's statements through rusqlite's
//! prepared-statement cache.

mod busy;
mod checkpoint;
pub mod locks;
#[cfg(all(test, target_os = "linux"))]
mod locks_tests;
pub mod raw;

pub use checkpoint::Checkpointer;

use super::{sqlite_scope, Done, Engine, Opened, Row, Scope, SqlValue};
use crate::error::{Constraint, CpError, Result};
use rusqlite::config::DbConfig;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{ffi, Connection};
use serde_json::json;
use std::time::Duration;

/// How long a writer waits for another connection's lock before failing with `BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub fn is_memory_path(path: &str) -> bool {
    path.is_empty() || path == ":memory:" || path.starts_with("file::memory:")
}

/// A connection of ours, as an `Engine`.
pub struct SqliteEngine {
    conn: Connection,
    memo: super::Memo,
}

impl SqliteEngine {
    /// Opens a file (created owner-only) or `:memory:` with our settings.
    pub fn open(path: &str) -> Result<SqliteEngine> {
        Ok(SqliteEngine { conn: open(path)?, memo: super::Memo::default() })
    }

    /// The rusqlite connection, for what is not the core's: raw SQL of our `Database`
    /// handle, and tests.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn close(self) -> Result<()> {
        self.conn.close().map_err(|(_, e)| e.into())
    }
}

/// Raw rusqlite calls (the `Database` handle's SQL, tests) go straight to the connection.
impl std::ops::Deref for SqliteEngine {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Opens a connection with the settings every connection of ours gets:
/// foreign keys on, a busy timeout, a larger statement cache, and for files WAL with
/// `synchronous = NORMAL`. In WAL mode NORMAL keeps the database consistent after a
/// process crash or power loss; a power loss may lose the last transactions committed
/// before it, never half of one.
fn open(path: &str) -> Result<Connection> {
    // Before our SQLite opens any file: its locks must be OFD locks from the start.
    locks::install();
    if !is_memory_path(path) {
        create_private(path)?;
    }
    let conn = Connection::open(path)?;
    configure(&conn, !is_memory_path(path))?;
    Ok(conn)
}

/// Creates a new database file readable and writable by its owner only (SQLite gives its
/// -wal and -shm files the same mode). An existing file keeps its mode.
fn create_private(path: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // An existing file keeps its mode; a path SQLite cannot open is reported by SQLite,
        // in its own words.
        let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn configure(conn: &Connection, is_file: bool) -> Result<()> {
    // Waits up to BUSY_TIMEOUT for another connection's lock, but not for one held by
    // another SQLite copy in this process (see busy.rs).
    busy::install(conn)?;
    // Plans that do not depend on the values bound. Without this SQLite may mark a cached
    // statement to be prepared again whenever a parameter is re-bound (it did so for the
    // window sums, every call), which costs more than any plan it could find.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(128);
    // Temporary b-trees (ORDER BY, GROUP BY, DISTINCT) in memory, not in temp files.
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;")?;
    if is_file {
        // journal_mode answers with a row, so it is read with query_row.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
    }
    Ok(())
}

impl rusqlite::ToSql for SqlValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            SqlValue::Null => ValueRef::Null,
            SqlValue::Int(i) => ValueRef::Integer(i),
            SqlValue::Real(f) => ValueRef::Real(f),
            SqlValue::Text(s) => ValueRef::Text(s.as_bytes()),
            SqlValue::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

struct SqliteRow<'s, 'r>(&'r rusqlite::Row<'s>);

impl Row for SqliteRow<'_, '_> {
    fn value(&self, column: usize) -> Result<SqlValue<'_>> {
        Ok(match self.0.get_ref(column)? {
            ValueRef::Null => SqlValue::Null,
            ValueRef::Integer(i) => SqlValue::Int(i),
            ValueRef::Real(f) => SqlValue::Real(f),
            ValueRef::Text(t) => SqlValue::Text(
                std::str::from_utf8(t).map_err(|e| CpError::new("STORAGE_ERROR", format!("SQLite: column {column}: {e}"), None))?,
            ),
            ValueRef::Blob(b) => SqlValue::Blob(b),
        })
    }
}

/// Debug builds check what host handles rely on: a query's columns have distinct names
/// that are not array indexes, so a row read as a JavaScript object keeps every column,
/// in order.
#[cfg(debug_assertions)]
fn check_column_names(stmt: &rusqlite::Statement, sql: &str) {
    let names: Vec<&str> = stmt.column_names().collect();
    for (i, name) in names.iter().enumerate() {
        assert!(name.parse::<u64>().is_err(), "column {i} of `{sql}` is named {name:?}: give it a name (AS ...)");
        assert!(!names[..i].contains(name), "column {i} of `{sql}` repeats the name {name:?}: give it a name (AS ...)");
    }
}

impl Engine for SqliteEngine {
    fn run(&self, sql: &str, params: &[SqlValue]) -> Result<Done> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let changes = match stmt.execute(rusqlite::params_from_iter(params)) {
            Ok(n) => n as u64,
            // A statement that returns rows (a PRAGMA) still ran.
            Err(rusqlite::Error::ExecuteReturnedResults) => 0,
            Err(e) => return Err(e.into()),
        };
        Ok(Done { changes, last_insert_id: self.conn.last_insert_rowid() })
    }

    fn query(&self, sql: &str, params: &[SqlValue], each: &mut dyn FnMut(&dyn Row) -> Result<bool>) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        #[cfg(debug_assertions)]
        check_column_names(&stmt, sql);
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        while let Some(r) = rows.next()? {
            if !each(&SqliteRow(r))? {
                break;
            }
        }
        Ok(())
    }

    fn script(&self, sql: &str) -> Result<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn begin(&self, scope: Scope<'_>) -> Result<Opened> {
        let (opened, sql) = sqlite_scope::plan(scope, !self.conn.is_autocommit());
        if let Some(sql) = sql {
            self.conn.prepare_cached(sql)?.execute([])?;
        }
        Ok(opened)
    }

    fn end(&self, opened: Opened, commit: bool) -> Result<()> {
        for sql in sqlite_scope::closing(opened, commit) {
            self.conn.prepare_cached(sql)?.execute([])?;
        }
        Ok(())
    }

    fn memo(&self) -> Option<&super::Memo> {
        Some(&self.memo)
    }
}

/// The constraint kind of an extended result code.
fn constraint_of(extended: i32) -> Option<Constraint> {
    match extended {
        ffi::SQLITE_CONSTRAINT_UNIQUE => Some(Constraint::Unique),
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => Some(Constraint::PrimaryKey),
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Some(Constraint::ForeignKey),
        e if e & 0xff == ffi::SQLITE_CONSTRAINT => Some(Constraint::Other),
        _ => None,
    }
}

/// A failure of SQLite given by its extended result code and message, as every SQLite
/// engine reports it: `BUSY` when another connection holds the lock, else
/// `STORAGE_ERROR`, with the primary code's name in `details.sqliteCode`.
pub fn sqlite_error(extended: Option<i32>, message: &str) -> CpError {
    let code = extended.map(|e| ffi::Error::new(e).code);
    let busy = matches!(code, Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked));
    let mut err = CpError::new(
        if busy { "BUSY" } else { "STORAGE_ERROR" },
        format!("SQLite: {message}"),
        Some(json!({ "sqliteCode": code.map(|c| format!("{c:?}")) })),
    );
    err.constraint = extended.and_then(constraint_of);
    err
}

/// The message of a `BUSY` whose lock is held by another SQLite copy in this process.
const LOCKED_BY_THIS_PROCESS: &str = "SQLite: the database file is locked by another SQLite connection in this \
     process (another binding's handle); a store opened by path cannot write while that connection holds a \
     transaction. Pass that handle to the store instead.";

/// Any SQLite failure the domain did not turn into an error of its own: busy, I/O, a
/// constraint raised by a user's trigger. The code says what kind; the message is kept,
/// except for a lock held by another SQLite copy in this process, which our busy handler
/// did not wait for (see busy.rs): that `BUSY` says so.
impl From<rusqlite::Error> for CpError {
    fn from(err: rusqlite::Error) -> Self {
        let extended = match &err {
            rusqlite::Error::SqliteFailure(e, _) => Some(e.extended_code),
            _ => None,
        };
        let mut cp = sqlite_error(extended, &err.to_string());
        // Read (and cleared) right after the failure, on the thread that saw it.
        if cp.code == "BUSY" && locks::take_locked_by_this_process() {
            cp.summary = LOCKED_BY_THIS_PROCESS.to_string();
            if let Some(serde_json::Value::Object(details)) = cp.details.as_mut() {
                details.insert("lockedByThisProcess".into(), serde_json::Value::Bool(true));
            }
        }
        cp
    }
}
