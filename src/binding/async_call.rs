//! A long method run on the libuv thread pool, and how its promise settles.

use super::connection::{closed, Own};
use super::env_data::{parse_json, to_js};
use control_plane_core::engine::sqlite::SqliteEngine;
use control_plane_core::engine::Db;
use control_plane_core::error::Result as CoreResult;
use napi::bindgen_prelude::Unknown;
use napi::ScopedTask;
use napi::{Env, Result};
use std::sync::Arc;

/// The work of a long method: one typed operation on its request (read on the JS thread),
/// its result as JSON text.
/// May run twice on PostgreSQL: again on a new connection when the first had died while
/// idle (`PostgresPool::run`).
pub type Job = Box<dyn Fn(&Db) -> CoreResult<String> + Send>;

/// A long method run on the libuv thread pool: the export of an org, to memory or a file,
/// and the audit chain's check; the async store's calls on SQLite. (The async store's calls
/// on PostgreSQL run on the pool's own threads: `async_store::on_pool`.)
pub struct AsyncCall {
    work: AsyncWork,
}

enum AsyncWork {
    /// On a connection of ours: a file gets a connection of its own for the work. The job
    /// is the request read on the JS thread, or the error reading it, which the work
    /// reports after the connection's own (a store closed since, a file that no longer
    /// opens), as a call on the JS thread does.
    Own { own: Arc<Own>, job: Option<CoreResult<Job>> },
    /// On a host handle the work already ran on the JS thread (the handle cannot be used
    /// elsewhere); the task only hands over its result.
    Done(Option<CoreResult<String>>),
}

impl AsyncCall {
    /// The work on a connection of ours, off the JS thread (a closed one fails the work).
    pub fn on_own(own: Arc<Own>, job: CoreResult<Job>) -> AsyncCall {
        AsyncCall { work: AsyncWork::Own { own, job: Some(job) } }
    }

    /// Work that already ran (on a host handle, on the JS thread): only its result.
    pub fn done(result: CoreResult<String>) -> AsyncCall {
        AsyncCall { work: AsyncWork::Done(Some(result)) }
    }
}

impl<'task> ScopedTask<'task> for AsyncCall {
    type Output = CoreResult<String>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> Result<CoreResult<String>> {
        Ok(match &mut self.work {
            AsyncWork::Done(result) => result.take().unwrap_or_else(|| Err(closed())),
            AsyncWork::Own { own, job } => {
                let job = job.take().unwrap_or_else(|| Err(closed()));
                match &own.path {
                    Some(path) => SqliteEngine::open(path).and_then(|engine| job.and_then(|job| job(&engine))),
                    None => own.with(|engine| job.and_then(|job| job(engine))),
                }
            }
        })
    }

    fn resolve(&mut self, env: &'task Env, output: CoreResult<String>) -> Result<Unknown<'task>> {
        settle(env, output)
    }
}

/// What a long method's promise settles with, on the JS thread: its result parsed, or its
/// error thrown (the promise rejects with it).
pub fn settle(env: &Env, output: CoreResult<String>) -> Result<Unknown<'_>> {
    match output {
        Ok(text) => parse_json(env, &text),
        Err(err) => Err(to_js(env, err)),
    }
}
