//! Open-file-description locks for our copy of SQLite, so that it can share a database
//! file with another SQLite copy in the same process (better-sqlite3's, bun:sqlite).
//!
//! SQLite's unix VFS takes traditional POSIX record locks, which belong to the process:
//! two copies of SQLite in one process never see each other's locks, and closing any
//! descriptor of a file drops every lock the process holds on it. Each copy copes with
//! that for its own connections (an in-memory table of what "the process" holds), but not
//! for the other copy's, which led to corruption and lost rows. `install` replaces
//! "fcntl" and "close" in our SQLite's syscall table (`xSetSystemCall`) with the shims of
//! `ofd_locks.c`: our locks become OFD locks, which conflict with traditional locks even
//! within one process; our closes never drop the other copy's locks; and a lock held by
//! the other copy in this process is reported at once (`locked_by_this_process`) instead
//! of being waited for. Linux only (kernel 3.15 or later): elsewhere `install` does
//! nothing and `ofd_locks_available` is false.

#[cfg(target_os = "linux")]
mod imp {
    use rusqlite::ffi;
    use std::os::raw::c_int;
    use std::ptr;

    extern "C" {
        fn cp_ofd_probe() -> c_int;
        fn cp_ofd_set_originals(fcntl: ffi::sqlite3_syscall_ptr, close: ffi::sqlite3_syscall_ptr);
        fn cp_ofd_fcntl_ptr() -> ffi::sqlite3_syscall_ptr;
        fn cp_ofd_close_ptr() -> ffi::sqlite3_syscall_ptr;
        fn cp_ofd_retry_parked();
        #[cfg(test)]
        fn cp_ofd_parked(out: *mut c_int, cap: c_int) -> c_int;
        fn cp_ofd_locked_by_this_process() -> c_int;
        fn cp_ofd_take_locked_by_this_process() -> c_int;
    }

    /// Installs the shims into our SQLite's default ("unix") VFS; true when installed.
    /// Must run before our SQLite opens any file: locks taken before would stay
    /// traditional ones.
    pub(super) fn install() -> bool {
        unsafe {
            // An old kernel (before 3.15) answers EINVAL to F_OFD_*: SQLite then keeps its
            // traditional locks, and we say so.
            if cp_ofd_probe() == 0 {
                return false;
            }
            let vfs = ffi::sqlite3_vfs_find(ptr::null());
            if vfs.is_null() || (*vfs).iVersion < 3 || std::ffi::CStr::from_ptr((*vfs).zName).to_bytes() != b"unix" {
                return false;
            }
            let (Some(get), Some(set)) = ((*vfs).xGetSystemCall, (*vfs).xSetSystemCall) else {
                return false;
            };
            let fcntl = get(vfs, c"fcntl".as_ptr());
            let close = get(vfs, c"close".as_ptr());
            if fcntl.is_none() || close.is_none() {
                return false;
            }
            cp_ofd_set_originals(fcntl, close);
            if set(vfs, c"fcntl".as_ptr(), cp_ofd_fcntl_ptr()) != ffi::SQLITE_OK {
                return false;
            }
            if set(vfs, c"close".as_ptr(), cp_ofd_close_ptr()) != ffi::SQLITE_OK {
                set(vfs, c"fcntl".as_ptr(), fcntl);
                return false;
            }
            true
        }
    }

    pub(super) fn retry_parked() {
        unsafe { cp_ofd_retry_parked() }
    }

    #[cfg(test)]
    pub(super) fn parked_fds() -> Vec<i32> {
        let mut out = vec![0; 64];
        let n = unsafe { cp_ofd_parked(out.as_mut_ptr(), out.len() as c_int) } as usize;
        if n > out.len() {
            out.resize(n, 0);
            let m = unsafe { cp_ofd_parked(out.as_mut_ptr(), out.len() as c_int) } as usize;
            out.truncate(m.min(out.len()));
        } else {
            out.truncate(n);
        }
        out
    }

    pub(super) fn locked_by_this_process() -> bool {
        unsafe { cp_ofd_locked_by_this_process() != 0 }
    }

    pub(super) fn take_locked_by_this_process() -> bool {
        unsafe { cp_ofd_take_locked_by_this_process() != 0 }
    }
}

/// Without OFD locks (macOS, the BSDs, Windows) nothing is installed: our SQLite keeps
/// the platform's locks, and a file shared with another SQLite copy in this process is
/// exposed to the hazards above. `ofd_locks_available()` says so; what to refuse is the
/// caller's policy.
#[cfg(not(target_os = "linux"))]
mod imp {
    pub(super) fn install() -> bool {
        false
    }
    pub(super) fn retry_parked() {}
    pub(super) fn locked_by_this_process() -> bool {
        false
    }
    pub(super) fn take_locked_by_this_process() -> bool {
        false
    }
}

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

static INSTALL: Once = Once::new();
static AVAILABLE: AtomicBool = AtomicBool::new(false);

/// Installs the OFD-lock shims into our SQLite, once per process. Every path that opens a
/// file with our SQLite calls this first.
pub fn install() {
    INSTALL.call_once(|| AVAILABLE.store(imp::install(), Ordering::SeqCst));
}

/// Whether our SQLite takes OFD locks (after `install`): false on other platforms, on
/// Linux before 3.15, and before `install` ran.
pub fn ofd_locks_available() -> bool {
    AVAILABLE.load(Ordering::SeqCst)
}

/// Closes the descriptors whose close was put off because the other SQLite copy in this
/// process held a lock on their file, if it no longer does. Called by every close of our
/// SQLite, and by the checkpoint thread each round.
pub(crate) fn retry_parked() {
    imp::retry_parked()
}

/// The descriptors whose close is put off, for the lock tests (Linux only).
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn parked_fds() -> Vec<i32> {
    imp::parked_fds()
}

/// Whether the last lock request of our SQLite on this thread failed because of a lock
/// held by another SQLite copy in this process.
pub(crate) fn locked_by_this_process() -> bool {
    imp::locked_by_this_process()
}

/// `locked_by_this_process`, then clears it: read once, right after the failure.
pub(crate) fn take_locked_by_this_process() -> bool {
    imp::take_locked_by_this_process()
}
