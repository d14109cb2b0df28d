//! Tests of the OFD-lock shims (locks.rs, ofd_locks.c). The other SQLite copy in this
//! process is played by the test itself: it takes traditional POSIX locks with libc on
//! the bytes SQLite's unix VFS uses. Whether a traditional lock still exists is asked from
//! a forked child, the one place where this process's traditional locks conflict.

use super::{locks, open, Checkpointer, LOCKED_BY_THIS_PROCESS};
use crate::error::CpError;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::time::{Duration, Instant};

// os_unix.c: the database file's lock bytes, and the -shm file's.
const PENDING_BYTE: i64 = 0x4000_0000;
const SHARED_FIRST: i64 = PENDING_BYTE + 2;
const SHARED_SIZE: i64 = 510;
const SHM_WRITE_LOCK: i64 = 120; // UNIX_SHM_BASE + WAL_WRITE_LOCK
const SHM_DMS: i64 = 128; // UNIX_SHM_DMS: held (read) by every connection of the file

/// A fresh database path, removed with its -wal and -shm when dropped.
struct TempDb(String);

impl TempDb {
    fn new() -> TempDb {
        let dir = std::env::temp_dir();
        TempDb(dir.join(format!("cp-ofd-{}.db", uuid::Uuid::new_v4())).to_string_lossy().into_owned())
    }
    fn shm(&self) -> String {
        format!("{}-shm", self.0)
    }
    fn wal(&self) -> String {
        format!("{}-wal", self.0)
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for p in [self.0.clone(), self.wal(), self.shm()] {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn rw(path: &str) -> File {
    OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).unwrap()
}

fn flock(kind: i32, start: i64, len: i64) -> libc::flock {
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = start;
    fl.l_len = len;
    fl
}

/// A traditional (process-owned) lock, as the other SQLite copy takes it; true if taken.
fn traditional_lock(file: &File, kind: i32, start: i64, len: i64) -> bool {
    let fl = flock(kind, start, len);
    unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &fl) == 0 }
}

/// Whether another process could take `kind` on the range: a forked child tries.
fn other_process_can_lock(file: &File, kind: i32, start: i64, len: i64) -> bool {
    let fd = file.as_raw_fd();
    let fl = flock(kind, start, len);
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // Only async-signal-safe calls in the child of a threaded process.
            let code = if libc::fcntl(fd, libc::F_SETLK, &fl) == 0 { 0 } else { 1 };
            libc::_exit(code);
        }
        let mut status = 0;
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
        assert!(libc::WIFEXITED(status));
        libc::WEXITSTATUS(status) == 0
    }
}

/// The parked descriptors that are open on `path`'s file.
fn parked_on(path: &str) -> usize {
    let ino = std::fs::metadata(path).unwrap().ino();
    locks::parked_fds()
        .into_iter()
        .filter(|&fd| {
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            unsafe { libc::fstat(fd, &mut st) == 0 && st.st_ino == ino }
        })
        .count()
}

#[test]
fn ofd_locks_are_installed_on_linux() {
    let db = TempDb::new();
    open(&db.0).unwrap();
    assert!(locks::ofd_locks_available());
}

/// The other copy holds a write transaction (the WAL write lock on the -shm file): our
/// reads go on, our write fails at once with a BUSY that names the cause, instead of
/// waiting out the 5 s busy timeout; once it commits, we write.
#[test]
fn a_write_locked_by_the_other_copy_fails_fast() {
    let db = TempDb::new();
    let conn = open(&db.0).unwrap();
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);").unwrap();
    let shm = rw(&db.shm());
    assert!(traditional_lock(&shm, libc::F_WRLCK, SHM_WRITE_LOCK, 1));

    let n: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    let started = Instant::now();
    let err: CpError = conn.execute("INSERT INTO t VALUES (2)", []).unwrap_err().into();
    let took = started.elapsed();
    eprintln!("write refused after {took:?}");
    assert_eq!(err.code, "BUSY");
    assert_eq!(err.summary, LOCKED_BY_THIS_PROCESS);
    assert!(took < Duration::from_millis(500), "took {took:?}");

    assert!(traditional_lock(&shm, libc::F_UNLCK, SHM_WRITE_LOCK, 1));
    conn.execute("INSERT INTO t VALUES (2)", []).unwrap();
    // The flag went with that failure: a later BUSY of another cause gets SQLite's message.
    assert!(!locks::locked_by_this_process());
}

/// The other copy holds the database file's lock bytes (PENDING and the SHARED range, as
/// when it takes EXCLUSIVE): our open, which needs a SHARED lock, fails fast.
#[test]
fn the_database_file_locked_by_the_other_copy_fails_fast() {
    let db = TempDb::new();
    open(&db.0).unwrap().execute_batch("CREATE TABLE t(x)").unwrap();
    let file = rw(&db.0);
    assert!(traditional_lock(&file, libc::F_WRLCK, PENDING_BYTE, 2 + SHARED_SIZE));

    let started = Instant::now();
    let err = open(&db.0).unwrap_err();
    let took = started.elapsed();
    eprintln!("open refused after {took:?}");
    assert_eq!(err.code, "BUSY");
    assert_eq!(err.summary, LOCKED_BY_THIS_PROCESS);
    assert!(took < Duration::from_millis(500), "took {took:?}");

    assert!(traditional_lock(&file, libc::F_UNLCK, PENDING_BYTE, 2 + SHARED_SIZE));
    open(&db.0).unwrap().execute("INSERT INTO t VALUES (1)", []).unwrap();
}

/// A lock held by another process is still waited for, as with the busy timeout.
#[test]
fn a_write_locked_by_another_process_waits() {
    let db = TempDb::new();
    let conn = open(&db.0).unwrap();
    conn.execute_batch("CREATE TABLE t(x)").unwrap();
    let shm = rw(&db.shm());
    let fd = shm.as_raw_fd();
    let fl = flock(libc::F_WRLCK, SHM_WRITE_LOCK, 1);
    let mut pipe = [0; 2];
    unsafe {
        assert_eq!(libc::pipe(pipe.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            // The child holds the WAL write lock for 300 ms.
            if libc::fcntl(fd, libc::F_SETLK, &fl) != 0 {
                libc::_exit(1);
            }
            libc::write(pipe[1], b"x".as_ptr().cast(), 1);
            let ts = libc::timespec { tv_sec: 0, tv_nsec: 300_000_000 };
            libc::nanosleep(&ts, std::ptr::null_mut());
            libc::_exit(0);
        }
        let mut byte = 0u8;
        assert_eq!(libc::read(pipe[0], (&mut byte as *mut u8).cast(), 1), 1);
        let started = Instant::now();
        conn.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let took = started.elapsed();
        eprintln!("write waited {took:?} for another process");
        assert!(took >= Duration::from_millis(200), "took {took:?}");
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        libc::close(pipe[0]);
        libc::close(pipe[1]);
    }
}

/// The other copy has the database open (its SHARED lock on the file, its DMS lock on the
/// -shm file). Our connection opens, writes and closes: closing our descriptors must not
/// drop its locks, and our last close must not checkpoint and delete the WAL it uses.
#[test]
fn closing_ours_keeps_the_other_copys_locks_and_wal() {
    let db = TempDb::new();
    open(&db.0).unwrap().execute_batch("CREATE TABLE t(x)").unwrap();
    let file = rw(&db.0);
    let shm = rw(&db.shm());
    assert!(traditional_lock(&file, libc::F_RDLCK, SHARED_FIRST, SHARED_SIZE));
    assert!(traditional_lock(&shm, libc::F_RDLCK, SHM_DMS, 1));

    let conn = open(&db.0).unwrap();
    conn.execute("INSERT INTO t VALUES (1)", []).unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();

    assert!(!other_process_can_lock(&file, libc::F_WRLCK, SHARED_FIRST, SHARED_SIZE), "the SHARED lock was dropped");
    assert!(!other_process_can_lock(&shm, libc::F_WRLCK, SHM_DMS, 1), "the DMS lock was dropped");
    assert!(std::path::Path::new(&db.wal()).exists(), "our close deleted the WAL the other copy uses");
    assert!(parked_on(&db.0) >= 1 && parked_on(&db.shm()) >= 1);

    // Once the other copy has let go, the parked descriptors close.
    assert!(traditional_lock(&file, libc::F_UNLCK, SHARED_FIRST, SHARED_SIZE));
    assert!(traditional_lock(&shm, libc::F_UNLCK, SHM_DMS, 1));
    locks::retry_parked();
    assert_eq!(parked_on(&db.0), 0);
    assert_eq!(parked_on(&db.shm()), 0);

    // The check above can see a dropped lock: a plain close (std, not our SQLite) drops it.
    assert!(traditional_lock(&file, libc::F_RDLCK, SHARED_FIRST, SHARED_SIZE));
    assert!(!other_process_can_lock(&file, libc::F_WRLCK, SHARED_FIRST, SHARED_SIZE));
    drop(File::open(&db.0).unwrap());
    assert!(other_process_can_lock(&file, libc::F_WRLCK, SHARED_FIRST, SHARED_SIZE));
}

/// Our own connections still share locks as SQLite expects. The first connection's
/// descriptor takes the file's SHARED lock; when it closes first, the last connection
/// upgrades to EXCLUSIVE through its own descriptor, checkpoints, and deletes the WAL.
/// With one OFD lock per descriptor the first one's SHARED lock would stay behind, block
/// that, and leave a lock no connection owns.
#[test]
fn our_connections_share_one_lock_per_file() {
    let db = TempDb::new();
    let first = open(&db.0).unwrap();
    first.execute_batch("CREATE TABLE t(x)").unwrap();
    let second = open(&db.0).unwrap();
    let checkpointer = Checkpointer::start(&db.0, &second).unwrap();
    for i in 0..100 {
        second.execute("INSERT INTO t VALUES (?1)", [i]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let n: i64 = first.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 100);
    drop(checkpointer);
    first.close().map_err(|(_, e)| e).unwrap();
    let file = rw(&db.0);
    assert!(!other_process_can_lock(&file, libc::F_WRLCK, SHARED_FIRST, SHARED_SIZE), "second is open");
    second.close().map_err(|(_, e)| e).unwrap();
    assert!(other_process_can_lock(&file, libc::F_WRLCK, PENDING_BYTE, 2 + SHARED_SIZE), "a lock stayed behind");
    assert!(!std::path::Path::new(&db.wal()).exists(), "the last close did not checkpoint and delete the WAL");
    assert_eq!(parked_on(&db.0), 0);
}
