//! A connection of ours (the path form, or a `Database` of this package, which a store
//! may share): the engine behind a lock, its file, and the file's checkpoint thread.

use control_plane_core::error::{CpError, Result};
use control_plane_core::engine::sqlite::{self, Checkpointer, SqliteEngine};
use rusqlite::MAIN_DB;
use control_plane_core::schema::fresh::image as schema_image;
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Own {
    engine: Mutex<Option<SqliteEngine>>,
    /// The file, or `None` in memory: async work on a file opens a connection of its own,
    /// so it never holds the lock the JS thread's calls need.
    pub path: Option<String>,
    /// Checkpoints a file's WAL off the JS thread; stopped before the connection closes.
    checkpointer: Mutex<Option<Checkpointer>>,
}

pub fn closed() -> CpError {
    CpError::new("CLOSED", "The database connection is closed.", None)
}

impl Own {
    /// Opens (creating if needed) a SQLite file, or an in-memory database for `:memory:`.
    pub fn open(path: &str) -> Result<Arc<Own>> {
        let engine = SqliteEngine::open(path)?;
        let path = (!sqlite::is_memory_path(path)).then(|| path.to_string());
        let checkpointer = match &path {
            Some(file) => Some(Checkpointer::start(file, engine.conn())?),
            None => None,
        };
        Ok(Arc::new(Own { engine: Mutex::new(Some(engine)), path, checkpointer: Mutex::new(checkpointer) }))
    }

    /// A new in-memory store's connection, already holding this version's schema: a copy
    /// of an image built once per process (`sqlite3_deserialize`), where running the DDL
    /// would cost a millisecond or more on every test's fresh store.
    pub fn open_memory_store() -> Result<Arc<Own>> {
        let image = schema_image()?;
        let mut engine = SqliteEngine::open(":memory:")?;
        engine.conn_mut().deserialize_read_exact(MAIN_DB, image, image.len(), false)?;
        Ok(Arc::new(Own { engine: Mutex::new(Some(engine)), path: None, checkpointer: Mutex::new(None) }))
    }

    /// Before a store's schema is created on a `Database` in memory that holds nothing
    /// yet: the same image, copied in (the same tables the DDL would create).
    pub fn load_schema_if_empty(&self) -> Result<()> {
        if self.path.is_some() {
            return Ok(());
        }
        let mut guard = self.lock()?;
        let Some(engine) = guard.as_mut() else { return Err(closed()) };
        let empty: bool = engine.conn().query_row("SELECT COUNT(*) = 0 FROM sqlite_master", [], |r| r.get(0))?;
        if empty && engine.conn().is_autocommit() {
            let image = schema_image()?;
            engine.conn().flush_prepared_statement_cache();
            engine.conn_mut().deserialize_read_exact(MAIN_DB, image, image.len(), false)?;
        }
        Ok(())
    }

    fn lock(&self) -> Result<MutexGuard<'_, Option<SqliteEngine>>> {
        self.engine.lock().map_err(|_| CpError::new("INTERNAL", "connection lock poisoned", None))
    }

    pub fn with<T>(&self, f: impl FnOnce(&SqliteEngine) -> Result<T>) -> Result<T> {
        let guard = self.lock()?;
        match guard.as_ref() {
            Some(engine) => f(engine),
            None => Err(closed()),
        }
    }

    pub fn is_open(&self) -> bool {
        self.engine.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    /// Closes the connection; later calls fail with `CLOSED`. Closing twice is harmless.
    pub fn close(&self) -> Result<()> {
        // The checkpoint thread first, so the last connection to close is ours, which
        // checkpoints the WAL and removes it.
        drop(self.checkpointer.lock().ok().and_then(|mut g| g.take()));
        let taken = self.engine.lock().ok().and_then(|mut g| g.take());
        match taken {
            Some(engine) => engine.close(),
            None => Ok(()),
        }
    }
}
