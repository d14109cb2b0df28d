//! The threads a pool runs its calls on (`PostgresPool::spawn`): at most the pool's
//! `pool_size`, started as calls come and none are free, so `pool_size` calls are in flight
//! at once, each on a connection of its own.
//!
//! Why threads of the pool's own: the async store's calls used to run as napi `AsyncTask`s,
//! on libuv's thread pool, 4 threads for the whole process by default
//! (`UV_THREADPOOL_SIZE`): at most 4 calls were in flight whatever the pool's size, and a
//! call waiting on a lock (an org's write lock, up to `lock_timeout`) held one of the
//! threads the process's file, DNS and crypto work wait for too. These threads run our
//! calls only.
//!
//! One queue, first in first out. Once closed (the pool's `close`, or the pool dropped),
//! the threads run what is queued and end; a job given after that still runs, on a thread
//! started for it.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;

pub(super) type Job = Box<dyn FnOnce() + Send>;

pub(super) struct Threads {
    queue: Arc<Queue>,
    max: usize,
}

struct Queue {
    state: Mutex<State>,
    /// Signalled when a job is queued, or the threads are closed.
    ready: Condvar,
}

struct State {
    jobs: VecDeque<Job>,
    /// Threads started and not ended.
    threads: usize,
    /// Threads waiting for a job.
    idle: usize,
    closed: bool,
}

fn lock(queue: &Queue) -> MutexGuard<'_, State> {
    queue.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Threads {
    /// No thread yet; at most `max` (at least one).
    pub(super) fn new(max: usize) -> Threads {
        let state = State { jobs: VecDeque::new(), threads: 0, idle: 0, closed: false };
        Threads { queue: Arc::new(Queue { state: Mutex::new(state), ready: Condvar::new() }), max: max.max(1) }
    }

    /// Queues `job`, starting a thread for it when every waiting thread already has a job
    /// of the queue to take and there is room for one more.
    pub(super) fn submit(&self, job: Job) {
        let mut state = lock(&self.queue);
        state.jobs.push_back(job);
        let start = state.jobs.len() > state.idle && state.threads < self.max;
        if start {
            state.threads += 1;
        }
        drop(state);
        self.queue.ready.notify_one();
        if start {
            let queue = self.queue.clone();
            if thread::Builder::new().name("cp-postgres".into()).spawn(move || work(&queue)).is_err() {
                // No thread to be had: the others take the job; when there are none, it
                // runs here rather than never.
                let mut state = lock(&self.queue);
                state.threads -= 1;
                let orphans: Vec<Job> = if state.threads == 0 { state.jobs.drain(..).collect() } else { Vec::new() };
                drop(state);
                orphans.into_iter().for_each(|job| job());
            }
        }
    }

    /// Threads running or waiting.
    pub(super) fn count(&self) -> usize {
        lock(&self.queue).threads
    }

    /// The threads end once the queue is empty.
    pub(super) fn close(&self) {
        lock(&self.queue).closed = true;
        self.queue.ready.notify_all();
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.close();
    }
}

/// A thread's life: the queue's jobs, one at a time, until it is closed and empty.
fn work(queue: &Queue) {
    let mut state = lock(queue);
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            // A job that panics ends, not the thread (`PostgresPool::spawn` answers for it).
            let _ = panic::catch_unwind(AssertUnwindSafe(job));
            state = lock(queue);
        } else if state.closed {
            state.threads -= 1;
            return;
        } else {
            state.idle += 1;
            state = queue.ready.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
            state.idle -= 1;
        }
    }
}
