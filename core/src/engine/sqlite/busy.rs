//! Our connections' busy handler: SQLite's own busy-timeout schedule (sleep and retry for
//! up to `BUSY_TIMEOUT`), except that it gives up at once when the lock is held by another
//! SQLite copy in this process (`locks::locked_by_this_process`). That holder is the
//! host's SQLite (a better-sqlite3 or bun:sqlite handle), usually on the JavaScript thread
//! we are blocking, so waiting could never succeed; it would only stall for 5 s.

use super::{locks, BUSY_TIMEOUT};
use rusqlite::{ffi, Connection};
use std::os::raw::{c_int, c_void};
use std::time::Duration;

/// SQLite's sqliteDefaultBusyCallback, in milliseconds: the sleep before each retry, and
/// the time slept before it.
const DELAYS: [i64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
const TOTALS: [i64; 12] = [0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228];

/// How long to sleep before retry number `count` (0 first), or `None` to give up.
fn delay_ms(count: c_int, timeout_ms: i64) -> Option<i64> {
    let count = count.max(0) as usize;
    let (mut delay, prior) = match DELAYS.get(count) {
        Some(&d) => (d, TOTALS[count]),
        None => (DELAYS[11], TOTALS[11] + DELAYS[11] * (count as i64 - 11)),
    };
    if prior + delay > timeout_ms {
        delay = timeout_ms - prior;
        if delay <= 0 {
            return None;
        }
    }
    Some(delay)
}

unsafe extern "C" fn busy_handler(_: *mut c_void, count: c_int) -> c_int {
    if locks::locked_by_this_process() {
        return 0;
    }
    match delay_ms(count, BUSY_TIMEOUT.as_millis() as i64) {
        Some(ms) => {
            std::thread::sleep(Duration::from_millis(ms as u64));
            1
        }
        None => 0,
    }
}

/// Installs the handler on `conn`, in place of a busy timeout.
pub(crate) fn install(conn: &Connection) -> rusqlite::Result<()> {
    // Set through the C API: rusqlite's `busy_handler` wants `&mut Connection`. The
    // handler keeps no state, so nothing is owned on rusqlite's side.
    let rc = unsafe { ffi::sqlite3_busy_handler(conn.handle(), Some(busy_handler), std::ptr::null_mut()) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None))
    }
}

#[cfg(test)]
mod tests {
    use super::delay_ms;

    #[test]
    fn follows_sqlites_default_schedule_up_to_the_timeout() {
        assert_eq!(delay_ms(0, 5000), Some(1));
        assert_eq!(delay_ms(11, 5000), Some(100));
        let mut slept = 0;
        let mut count = 0;
        while let Some(ms) = delay_ms(count, 5000) {
            slept += ms;
            count += 1;
        }
        assert_eq!(slept, 5000);
    }
}
