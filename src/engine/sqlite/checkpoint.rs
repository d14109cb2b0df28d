//! The background checkpoints of a file's WAL.

use super::locks;
use crate::core::error::{CpError, Result};
use rusqlite::Connection;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

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
        // Our SQLite's locks must be OFD locks before it opens the file (see locks.rs).
        locks::install();
        let own = Connection::open(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("control-plane-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                    // Failing is harmless (another connection may be checkpointing): the
                    // next round, or a writer past the backstop, does it.
                    let _ = own.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    // Closes put off while the other SQLite copy in this process held a
                    // lock on their file, once it no longer does.
                    locks::retry_parked();
                }
            })
            .map_err(|e| CpError::new("STORAGE_ERROR", format!("starting the checkpoint thread: {e}"), None))?;
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

