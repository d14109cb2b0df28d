//! The background checkpoints of our files' WALs: one thread for the whole process, however
//! many files and stores are open.

use super::locks;
use crate::error::{CpError, Result};
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

/// How often each file's WAL is checkpointed in the background.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// The WAL size (pages) past which a committing connection checkpoints by itself: a
/// backstop for when the background checkpoints fall behind.
const WAL_BACKSTOP_PAGES: i64 = 10_000;

/// The files being checkpointed: a connection of the worker's own to each, shared by every
/// store open on that file.
struct Files {
    by_path: HashMap<String, (Connection, usize)>,
    started: bool,
}

struct Worker {
    files: Mutex<Files>,
    /// Wakes the worker when its first file arrives.
    wake: Condvar,
}

fn worker() -> &'static Worker {
    static WORKER: OnceLock<Worker> = OnceLock::new();
    WORKER.get_or_init(|| Worker { files: Mutex::new(Files { by_path: HashMap::new(), started: false }), wake: Condvar::new() })
}

/// Every `CHECKPOINT_EVERY`, `wal_checkpoint(PASSIVE)` on each file (which never waits for,
/// or blocks, readers and writers); asleep while there is none.
fn run(worker: &'static Worker) {
    let mut files = worker.files.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        files = if files.by_path.is_empty() {
            worker.wake.wait(files).unwrap_or_else(|e| e.into_inner())
        } else {
            worker.wake.wait_timeout(files, CHECKPOINT_EVERY).unwrap_or_else(|e| e.into_inner()).0
        };
        for (conn, _) in files.by_path.values() {
            // Failing is harmless (another connection may be checkpointing): the next
            // round, or a writer past the backstop, does it.
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
        // Closes put off while the other SQLite copy in this process held a lock on their
        // file, once it no longer does.
        locks::retry_parked();
    }
}

/// A store's share of the worker: while it lives, the file is checkpointed in the
/// background; dropping it (before the store's own connection closes) lets go, and the
/// last share of a file closes the worker's connection to it, so the store's close is the
/// last one and removes the WAL, as before.
pub struct Checkpointer {
    path: String,
}

impl Checkpointer {
    /// Starts checkpointing the file `writer` is open on, and leaves `writer` to
    /// checkpoint only past `WAL_BACKSTOP_PAGES`.
    pub fn start(path: &str, writer: &Connection) -> Result<Checkpointer> {
        let worker = worker();
        let mut files = worker.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, users)) = files.by_path.get_mut(path) {
            *users += 1;
        } else {
            // Our SQLite's locks must be OFD locks before it opens the file (see locks.rs).
            locks::install();
            files.by_path.insert(path.to_string(), (Connection::open(path)?, 1));
        }
        if !files.started {
            thread::Builder::new()
                .name("control-plane-checkpoint".into())
                .spawn(move || run(worker))
                .map_err(|e| CpError::new("STORAGE_ERROR", format!("starting the checkpoint thread: {e}"), None))?;
            files.started = true;
        }
        worker.wake.notify_one();
        drop(files);
        writer.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)?;
        Ok(Checkpointer { path: path.to_string() })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Taking the lock waits out a round in progress, so no checkpoint of this file
        // runs once the drop returns.
        let mut files = worker().files.lock().unwrap_or_else(|e| e.into_inner());
        let last = match files.by_path.get_mut(&self.path) {
            Some((_, users)) => {
                *users -= 1;
                *users == 0
            }
            None => false,
        };
        if last {
            if let Some((conn, _)) = files.by_path.remove(&self.path) {
                let _ = conn.close();
            }
        }
    }
}
