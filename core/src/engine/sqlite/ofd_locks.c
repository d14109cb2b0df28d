/*
 * Open-file-description (OFD) locks for OUR copy of SQLite (the one libsqlite3-sys
 * bundles into the addon), installed into its unix VFS syscall table ("fcntl", "close")
 * by locks.rs. The host's SQLite (better-sqlite3's copy, bun:sqlite) is never touched.
 *
 * Why. SQLite's unix VFS locks with traditional POSIX record locks (fcntl F_SETLK and
 * F_GETLK on the database file and on the -shm file). Those belong to the process:
 *   - two lock requests of one process never conflict, so when the host's SQLite and
 *     ours open the same file in one process, neither sees the other's locks (each copy
 *     keeps its own in-memory table of what the process holds);
 *   - closing ANY descriptor of a file drops ALL of the process's locks on that file, so
 *     our closes silently drop the host copy's locks (and the other way round).
 * The results were corruption and lost rows. OFD locks (Linux >= 3.15) belong to an open
 * file description instead: they conflict with traditional locks even within one
 * process, and they are dropped only when the description's last descriptor closes.
 *
 * What this file does:
 *   1. cp_ofd_fcntl: F_SETLK / F_SETLKW / F_GETLK become F_OFD_SETLK / F_OFD_SETLKW /
 *      F_OFD_GETLK (with l_pid = 0, which OFD requires); every other command passes
 *      through. SQLite's unix VFS still reasons as if locks belonged to the process: one
 *      connection may take the shared lock through its descriptor and another connection
 *      release it through a different descriptor (posixUnlock unlocks "when all threads
 *      in this same process have released the lock", through whichever file is last).
 *      With per-descriptor OFD locks that would leave the first descriptor's lock behind.
 *      So every lock request of our copy on one file (device, inode) goes to ONE open
 *      file description, a dup of the first descriptor that locked it: our copy's locks
 *      then behave exactly like the process-wide locks SQLite expects, while conflicting
 *      with everyone else's, the host copy's included.
 *   2. cp_ofd_close: before a descriptor of a regular file is really closed, ask
 *      (F_OFD_GETLK) whether this process holds a traditional lock on that file (a
 *      conflicting lock whose l_pid is our pid; OFD locks report l_pid -1). If it does,
 *      that lock is the host copy's, and closing would drop it: the descriptor is parked
 *      instead, and closed by a later call (every cp_ofd_close, cp_ofd_retry_parked from
 *      the checkpoint thread) once no such lock remains.
 *   3. When a lock request fails (EAGAIN / EACCES) because of a traditional lock held by
 *      this same process, a thread-local flag says so: the holder is the host's SQLite,
 *      usually on the very JS thread we are blocking, so waiting cannot succeed. Our busy
 *      handler fails at once on that flag, and the error says why.
 *
 * Compiled on Linux only (build.rs): elsewhere there are no OFD locks.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64 /* as sqlite3.c: the same struct flock and F_* values */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*fcntl_fn)(int, int, ...);
typedef int (*close_fn)(int);
typedef void (*syscall_ptr)(void); /* sqlite3_syscall_ptr */

/* SQLite's own entries, from xGetSystemCall: what we call underneath. */
static fcntl_fn orig_fcntl;
static close_fn orig_close;

/* Set when the last lock request of this thread failed because of a traditional lock
 * held by this process (another SQLite copy); cleared by any other outcome of a lock
 * request, and by cp_ofd_take_locked_by_this_process. */
static __thread int locked_by_this_process;

/* One file our copy has locked: the open file description all its locks go to. */
struct locked_file {
    dev_t dev;
    ino_t ino;
    int lock_fd;          /* dup of the first descriptor that locked the file */
    int *fds;             /* our descriptors of the file that made lock requests */
    int nfds, cap;
    struct locked_file *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* guards the lists below */
static struct locked_file *files;
static int *parked; /* descriptors whose close would drop the host copy's locks */
static int nparked, capparked;

/* Past this many locks of others on a file, a scan answers "cannot tell". */
#define SCAN_BUDGET 64

/* Does a traditional lock held by THIS process conflict with a lock of `type` on
 * [start, start+len) (len 0: to the end of the file)? F_OFD_GETLK reports one
 * conflicting lock; a lock of someone else splits the range and both sides are asked
 * again. 1: yes; 0: no; -1: F_OFD_GETLK failed (no locks on this file system);
 * 2: too many locks to tell. */
static int scan_same_process(int fd, short type, off_t start, off_t len, int *budget) {
    struct flock fl;
    int r = 0;
    if ((*budget)-- <= 0) return 2;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    if (orig_fcntl(fd, F_OFD_GETLK, &fl) != 0) return -1;
    if (fl.l_type == F_UNLCK) return 0;
    if (fl.l_pid == getpid()) return 1; /* traditional, ours: OFD locks say -1 */
    if (fl.l_start > start) {
        r = scan_same_process(fd, type, start, fl.l_start - start, budget);
        if (r) return r;
    }
    if (fl.l_len > 0) { /* 0: the conflicting lock runs to the end of the file */
        off_t next = fl.l_start + fl.l_len;
        if (len == 0) r = scan_same_process(fd, type, next, 0, budget);
        else if (next < start + len) r = scan_same_process(fd, type, next, start + len - next, budget);
    }
    return r;
}

static int same_process_lock(int fd, short type, off_t start, off_t len) {
    int budget = SCAN_BUDGET;
    return scan_same_process(fd, type, start, len, &budget);
}

/* May closing `fd` drop a traditional lock of this process (the host copy's)? Only
 * regular files carry SQLite's locks. When it cannot tell for the number of locks, it
 * says yes (parking costs a descriptor for a while; dropping a lock costs data). */
static int close_would_drop_lock(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    int r = same_process_lock(fd, F_WRLCK, 0, 0);
    return r == 1 || r == 2;
}

/* Closes the parked descriptors whose file no longer has a lock of this process. */
static void retry_parked_locked(void) {
    for (int i = 0; i < nparked;) {
        if (close_would_drop_lock(parked[i])) {
            i++;
            continue;
        }
        orig_close(parked[i]);
        parked[i] = parked[--nparked];
    }
}

static int park_locked(int fd) {
    if (nparked == capparked) {
        int cap = capparked ? capparked * 2 : 8;
        int *p = realloc(parked, (size_t)cap * sizeof *p);
        if (!p) return 0;
        parked = p;
        capparked = cap;
    }
    parked[nparked++] = fd;
    return 1;
}

/* Closes `fd`, or parks it when closing would drop the host copy's locks. */
static int close_or_park_locked(int fd) {
    if (close_would_drop_lock(fd) && park_locked(fd)) return 0;
    return orig_close(fd);
}

/* The descriptor our copy's lock requests on fd's file go to (see 1. above); `fd`
 * itself when it cannot be had (the request then still is an OFD lock). */
static int lock_fd_for(int fd) {
    struct stat st;
    struct locked_file *f;
    int lock_fd = fd;
    if (fstat(fd, &st) != 0) return fd;
    pthread_mutex_lock(&mu);
    for (f = files; f; f = f->next) {
        if (f->dev == st.st_dev && f->ino == st.st_ino) break;
    }
    if (!f) {
        f = calloc(1, sizeof *f);
        if (!f) goto out;
        /* At 3 or above, as SQLite keeps its own descriptors off 0, 1 and 2. */
        f->lock_fd = orig_fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (f->lock_fd < 0) {
            free(f);
            goto out;
        }
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->next = files;
        files = f;
    }
    int known = 0;
    for (int i = 0; i < f->nfds; i++) known |= f->fds[i] == fd;
    if (!known) {
        if (f->nfds == f->cap) {
            int cap = f->cap ? f->cap * 2 : 4;
            int *p = realloc(f->fds, (size_t)cap * sizeof *p);
            /* Without room the file's lock descriptor just stays open. */
            if (p) {
                f->fds = p;
                f->cap = cap;
            }
        }
        if (f->nfds < f->cap) f->fds[f->nfds++] = fd;
    }
    lock_fd = f->lock_fd;
out:
    pthread_mutex_unlock(&mu);
    return lock_fd;
}

static int lock_request(int fd, int cmd, int ofd_cmd, struct flock *user) {
    struct flock fl;
    int rc, err;
    if (!user) return orig_fcntl(fd, cmd, user);
    fl = *user;
    fl.l_pid = 0; /* OFD requests must have l_pid 0 (EINVAL otherwise) */
    /* SQLite always locks from SEEK_SET; another whence would mean the descriptor's own
     * file offset, which the shared lock descriptor does not have. */
    int lock_fd = fl.l_whence == SEEK_SET ? lock_fd_for(fd) : fd;
    rc = orig_fcntl(lock_fd, ofd_cmd, &fl);
    err = errno;
    if (cmd == F_GETLK) {
        if (rc == 0) *user = fl;
    } else if (fl.l_type != F_UNLCK) {
        locked_by_this_process =
            rc != 0 && (err == EAGAIN || err == EACCES) &&
            same_process_lock(lock_fd, user->l_type, user->l_start, user->l_len) == 1;
    }
    errno = err;
    return rc;
}

/* The "fcntl" of our SQLite's syscall table. Variadic like fcntl: the third argument is
 * read as a pointer, as glibc's fcntl reads it. */
int cp_ofd_fcntl(int fd, int cmd, ...) {
    va_list ap;
    void *arg;
    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    switch (cmd) {
    case F_SETLK: return lock_request(fd, cmd, F_OFD_SETLK, arg);
    case F_SETLKW: return lock_request(fd, cmd, F_OFD_SETLKW, arg);
    case F_GETLK: return lock_request(fd, cmd, F_OFD_GETLK, arg);
    default: return orig_fcntl(fd, cmd, arg);
    }
}

/* The "close" of our SQLite's syscall table. SQLite closes a file's descriptors only
 * once our copy holds no lock on the file (its unixInodeInfo defers them), so when the
 * last descriptor that made lock requests closes, the file's lock descriptor holds
 * nothing and closes too. */
int cp_ofd_close(int fd) {
    int lock_fd = -1, rc, err;
    pthread_mutex_lock(&mu);
    for (struct locked_file **pf = &files; *pf; pf = &(*pf)->next) {
        struct locked_file *f = *pf;
        int i;
        for (i = 0; i < f->nfds && f->fds[i] != fd; i++) {}
        if (i == f->nfds) continue;
        f->fds[i] = f->fds[--f->nfds];
        if (f->nfds == 0) {
            lock_fd = f->lock_fd;
            *pf = f->next;
            free(f->fds);
            free(f);
        }
        break;
    }
    retry_parked_locked();
    rc = close_or_park_locked(fd);
    err = errno;
    if (lock_fd >= 0) close_or_park_locked(lock_fd);
    pthread_mutex_unlock(&mu);
    errno = err;
    return rc;
}

/* 1 when this kernel has OFD locks (Linux >= 3.15; older ones answer EINVAL). */
int cp_ofd_probe(void) {
    int p[2], ok;
    struct flock fl;
    if (pipe(p) != 0) return 0;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    ok = fcntl(p[0], F_OFD_GETLK, &fl) == 0;
    close(p[0]);
    close(p[1]);
    return ok;
}

void cp_ofd_set_originals(syscall_ptr fcntl_orig, syscall_ptr close_orig) {
    orig_fcntl = (fcntl_fn)fcntl_orig;
    orig_close = (close_fn)close_orig;
}

syscall_ptr cp_ofd_fcntl_ptr(void) { return (syscall_ptr)cp_ofd_fcntl; }
syscall_ptr cp_ofd_close_ptr(void) { return (syscall_ptr)cp_ofd_close; }

void cp_ofd_retry_parked(void) {
    pthread_mutex_lock(&mu);
    retry_parked_locked();
    pthread_mutex_unlock(&mu);
}

/* Copies up to `cap` parked descriptors to `out`; returns how many are parked. */
int cp_ofd_parked(int *out, int cap) {
    int n;
    pthread_mutex_lock(&mu);
    n = nparked;
    for (int i = 0; i < n && i < cap; i++) out[i] = parked[i];
    pthread_mutex_unlock(&mu);
    return n;
}

int cp_ofd_locked_by_this_process(void) { return locked_by_this_process; }

int cp_ofd_take_locked_by_this_process(void) {
    int was = locked_by_this_process;
    locked_by_this_process = 0;
    return was;
}
