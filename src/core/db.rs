//! Opening connections and running work in transactions.

use super::error::Result;
use rusqlite::config::DbConfig;
use rusqlite::Connection;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long a writer waits for another connection's lock before failing with `BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub fn is_memory_path(path: &str) -> bool {
    path.is_empty() || path == ":memory:" || path.starts_with("file::memory:")
}

/// Opens a connection with the settings every connection of ours gets:
/// foreign keys on, a busy timeout, a larger statement cache, and for files WAL with
/// `synchronous = NORMAL`. In WAL mode NORMAL keeps the database consistent after a
/// process crash or power loss; a power loss may lose the last transactions committed
/// before it, never half of one.
pub fn open(path: &str) -> Result<Connection> {
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
        let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            // Let SQLite report a path it cannot open, in its own words.
            Err(_) => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

pub fn configure(conn: &Connection, is_file: bool) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
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

/// How often a file's WAL is checkpointed in the background.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// The WAL size (pages) past which a committing connection checkpoints by itself: a
/// backstop for when the background checkpoints fall behind.
const WAL_BACKSTOP_PAGES: i64 = 10_000;

/// Copies a file's WAL into the database from a thread and connection of its own, every
/// `CHECKPOINT_EVERY`, with `wal_checkpoint(PASSIVE)` (which never waits for, or blocks,
/// readers and writers). Writers then never pay for a checkpoint, and since the WAL is
/// synced at each checkpoint, a commit is on disk within about `CHECKPOINT_EVERY` even
/// when writes are few. Stops (and joins its thread) when dropped.
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the file `writer` is open on, and leaves `writer` to
    /// checkpoint only past `WAL_BACKSTOP_PAGES`.
    pub fn start(path: &str, writer: &Connection) -> Result<Checkpointer> {
        let own = Connection::open(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("control-plane-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                    // Failing is harmless (another connection may be checkpointing): the
                    // next round, or a writer past the backstop, does it.
                    let _ = own.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .map_err(|e| super::error::CpError::new("STORAGE_ERROR", format!("starting the checkpoint thread: {e}"), None))?;
        writer.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)?;
        Ok(Checkpointer { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs `f` as one atomic write. Outside a caller's transaction this is `BEGIN IMMEDIATE`,
/// which takes the write lock up front so two processes cannot both read and then both
/// write (and waits out the busy timeout instead of failing mid-way). Inside a caller's
/// transaction (a `Database` shared with the store) it is a savepoint, so our work commits
/// or rolls back with theirs and a failure of ours undoes only our part.
pub fn write<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    if conn.is_autocommit() {
        exec_cached(conn, "BEGIN IMMEDIATE")?;
        match f(conn) {
            Ok(value) => match exec_cached(conn, "COMMIT") {
                Ok(()) => Ok(value),
                Err(err) => {
                    let _ = exec_cached(conn, "ROLLBACK");
                    Err(err.into())
                }
            },
            Err(err) => {
                let _ = exec_cached(conn, "ROLLBACK");
                Err(err)
            }
        }
    } else {
        exec_cached(conn, "SAVEPOINT cp_write")?;
        let result = f(conn);
        if result.is_err() {
            let _ = exec_cached(conn, "ROLLBACK TO cp_write");
        }
        exec_cached(conn, "RELEASE cp_write")?;
        result
    }
}

/// Runs several reads against one snapshot of the database.
pub fn read<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    if !conn.is_autocommit() {
        return f(conn);
    }
    exec_cached(conn, "BEGIN")?;
    let result = f(conn);
    let _ = exec_cached(conn, if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
    result
}
