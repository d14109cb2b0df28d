//! The engine on PostgreSQL: a small pool of connections (the `postgres` crate, the
//! synchronous client over tokio-postgres), each lent out as an `Engine` for one unit of
//! work.
//!
//! `PostgresPool::get` lends a connection as a `PostgresEngine`: the core runs its
//! statements and scopes on it (a transaction needs one connection from `begin` to `end`),
//! and dropping it gives the connection back (rolling back a transaction left open). The
//! pool is `Send + Sync` and cheap to clone, so each thread takes its own connection; the
//! engine itself stays on its thread. `PostgresPool::spawn` runs a unit of work on one of
//! the pool's own threads (`threads`), at most `pool_size` of them, so as many calls are in
//! flight as the pool has connections (the async store's calls run there, not on libuv's
//! thread pool).
//!
//! On a connection:
//!
//! - statements are prepared once and kept by their text (`?N` written `$N`);
//! - parameters are encoded as the types the prepared statement takes, NULLs included,
//!   and columns read by their types (`values`);
//! - `Done::changes` is the number of rows the statement changed; PostgreSQL has no
//!   last-inserted row id, so `Done::last_insert_id` is the first column of the last row
//!   a statement returns (`INSERT ... RETURNING id`), else 0;
//! - `begin(Scope::WriteOrg(org))` opens a transaction and takes that org's write lock (an
//!   advisory lock held to the transaction's end) with the shared side of the store's:
//!   writers of one org go one at a time, each seeing what the one before committed, as
//!   SQLite's `BEGIN IMMEDIATE` has them do; writers of other orgs do not wait.
//!   `begin(Scope::Write)` takes the store's lock whole, for work that spans orgs.
//!   Waiting for it longer than `lock_timeout` fails with `BUSY`, as SQLite's busy
//!   timeout does. Nested, a write scope is a savepoint. `begin(Scope::Read)` is a
//!   REPEATABLE READ transaction: one snapshot for all its reads;
//! - a statement that fails inside a transaction aborts it in PostgreSQL (SQLite keeps
//!   it going): the engine remembers, and a `COMMIT` of such a transaction rolls it back
//!   and fails, unless a savepoint rolled back past the failure;
//! - errors carry the codes the SQLite engine gives (`errors`), and `UNAVAILABLE` when
//!   the server cannot be reached; a connection that failed that way is not reused.

mod errors;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
mod threads;
pub mod tls;
mod values;

pub use errors::UNAVAILABLE;

use super::{placeholders, Dialect, Done, Engine, Opened, Row, Scope, SqlValue};
use crate::error::{CpError, Result};
use ::postgres::types::ToSql;
use ::postgres::{Client, NoTls, Statement};
use errors::{statement_error, Fate};
use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use threads::Threads;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The advisory lock a write scope holds to its transaction's end: whole (exclusive) for
/// work that spans orgs, its shared side for a write of one org's rows, which also holds
/// that org's lock (`ORG_LOCKS`). So writers of different orgs never wait for each other,
/// writers of one org go one at a time, and work across orgs waits for all of them.
pub const WRITE_LOCK: i64 = 0x636f_6e74_726f_6c01; // "control" + 1

/// The class of the orgs' advisory locks (the two-key form, a space apart from
/// `WRITE_LOCK`'s): an org's lock is `(ORG_LOCKS, hashtext(org_id))`. Two orgs whose ids
/// hash alike only share a lock.
pub const ORG_LOCKS: i32 = 0x636f_6e74; // "cont"

/// The calls that take one org's write locks, `org` an SQL expression naming the org: the
/// shared side of the store's, then the org's own. A select list (`SELECT {}`, or a
/// plpgsql `PERFORM {}`), evaluated left to right.
pub(crate) fn org_locks(org: &str) -> String {
    format!("pg_advisory_xact_lock_shared({WRITE_LOCK}) AS store, pg_advisory_xact_lock({ORG_LOCKS}, hashtext({org})) AS org")
}

/// The opening of a server-side function that writes one org's rows in the call's own
/// transaction (plpgsql statements): the `lock_timeout` it was given, if any
/// (`Engine::statement_lock_timeout`: behind a pooler the session has none of ours), then
/// the org's write locks (`org_locks`), then the org's state read after them into
/// `c_status` and `c_reason` (each statement of a function reads what committed before it,
/// so this is what the writer it waited for left). `org` and `lock_timeout` are SQL
/// expressions naming the function's parameters.
pub(crate) fn org_write_opening(org: &str, lock_timeout: &str) -> String {
    format!(
        "IF {lock_timeout} IS NOT NULL THEN
             PERFORM set_config('lock_timeout', {lock_timeout}, true);
           END IF;
           PERFORM {locks};
           SELECT o.status, o.suspend_reason INTO c_status, c_reason FROM _smithers_cp_orgs AS o WHERE o.org_id = {org};",
        locks = org_locks(org),
    )
}

/// The statement that takes `org_id`'s write locks. `org_id` is a validated id, quoted
/// anyway.
fn org_lock_sql(org_id: &str) -> String {
    format!("SELECT {}", org_locks(&format!("'{}'", org_id.replace('\'', "''"))))
}

/// How many prepared statements a connection keeps (the core has about a hundred).
const STATEMENT_CACHE: usize = 256;

/// How a pool connects and what its connections are set to.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// How many connections the pool opens at most.
    pub pool_size: usize,
    /// How long opening a connection's socket may take.
    pub connect_timeout: Duration,
    /// `statement_timeout` of every connection; `None` keeps the server's.
    pub statement_timeout: Option<Duration>,
    /// `lock_timeout` of every connection: how long a writer waits for the write lock (or
    /// any lock) before failing with `BUSY`. The SQLite engine's busy timeout.
    pub lock_timeout: Duration,
    /// How long `get` waits for a connection when all are lent out, before `BUSY`; and
    /// how long work given to `spawn` may wait for one of the pool's threads (all busy)
    /// before it fails with `BUSY` unrun, when its turn comes.
    pub acquire_timeout: Duration,
    /// The server is reached through a pooler in transaction mode (PgBouncer's
    /// `pool_mode = transaction`), which gives each transaction, or each statement outside
    /// one, whichever server connection is free: no prepared statement is kept on a
    /// connection (each statement is sent unnamed, with its parameters' types, in one
    /// round trip), and the settings go with each transaction (`SET LOCAL`). Also asked
    /// for by `pgbouncer=true` in the URL.
    pub pooler: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 8,
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Some(Duration::from_secs(30)),
            lock_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
            pooler: false,
        }
    }
}

/// A statement sent unnamed (behind a pooler in transaction mode): its text with `$N`
/// placeholders and its parameters' types.
#[derive(Clone)]
struct Typed {
    text: Arc<str>,
    params: Arc<[::postgres::types::Type]>,
}

/// One connection and what the engine keeps about it.
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// Transactions and savepoints open: 0 outside a transaction.
    depth: u32,
    /// A statement failed in the open transaction, which PostgreSQL then refuses to go
    /// on with until it is rolled back (to a savepoint from before the failure).
    aborted: bool,
    /// The connection failed (`UNAVAILABLE`): it is closed, not given back.
    broken: bool,
    /// Whether the server answered a statement since the connection was last lent: a
    /// connection that fails before it did may have died while idle.
    answered: bool,
    /// The connection failed because the server had ended it (a restart, a shutdown, an
    /// administrator) before it read what was sent on it: nothing sent was done.
    ended_by_server: bool,
}

impl Conn {
    /// The prepared statement for the core's SQL text, prepared on first use.
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = match self.client.prepare(&placeholders::dollar(sql)) {
            Ok(statement) => statement,
            Err(e) => return Err(self.failed(&e)),
        };
        self.answered = true;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// The core's error for a failure on this connection, noting what it did to it.
    fn failed(&mut self, err: &::postgres::Error) -> CpError {
        let (cp, fate) = statement_error(err);
        match fate {
            Fate::Broken => {
                self.broken = true;
                self.ended_by_server = errors::ended_by_server(err);
            }
            Fate::Refused if self.depth > 0 => self.aborted = true,
            Fate::Refused | Fate::NotSent => {}
        }
        cp
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).map_err(|e| self.failed(&e))?;
        self.answered = true;
        Ok(())
    }
}

/// The parameters of a statement, each as the type the statement takes.
fn bind_all<'a>(types: &[::postgres::types::Type], params: &[SqlValue<'a>]) -> Result<Vec<values::Bound<'a>>> {
    if types.len() != params.len() {
        return Err(CpError::new(
            "STORAGE_ERROR",
            format!("PostgreSQL: the statement takes {} parameters, {} given", types.len(), params.len()),
            Some(serde_json::json!({ "pgCode": null })),
        ));
    }
    params.iter().zip(types).enumerate().map(|(i, (value, ty))| values::bind(*value, ty, i)).collect()
}

fn refs<'b>(bound: &'b [values::Bound<'_>]) -> Vec<&'b (dyn ToSql + Sync)> {
    bound.iter().map(|b| b as &(dyn ToSql + Sync)).collect()
}

struct Shared {
    config: ::postgres::Config,
    tls: Option<MakeRustlsConnect>,
    options: PgOptions,
    /// Behind a pooler in transaction mode: each statement's text as sent (`$N`) and its
    /// parameters' types, learned once per text (`PostgresEngine::typed`).
    typed: Mutex<HashMap<String, Typed>>,
    state: Mutex<PoolState>,
    /// Signalled when a connection is given back or a slot frees up.
    freed: Condvar,
    /// Where `spawn`'s work runs: at most `pool_size` threads.
    threads: Threads,
}

struct PoolState {
    idle: Vec<Conn>,
    /// Connections open, idle or lent out (or being opened).
    open: usize,
    closed: bool,
}

/// The pool: clone it freely; every clone lends from the same connections.
#[derive(Clone)]
pub struct PostgresPool(Arc<Shared>);

fn lock(state: &Mutex<PoolState>) -> MutexGuard<'_, PoolState> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PostgresPool {
    /// A pool for the connection string (`postgres://user@host:port/db?sslmode=...`, or
    /// libpq's `key=value` form; see `tls` for the TLS modes). Opens one connection at
    /// once, so a wrong address or a refused login fails here (`UNAVAILABLE`).
    pub fn connect(url: &str, options: PgOptions) -> Result<PostgresPool> {
        let target = tls::parse_target(url)?;
        let mut config: ::postgres::Config = target.config.parse().map_err(|e: ::postgres::Error| {
            CpError::new("INVALID_INPUT", format!("PostgreSQL: {e}"), Some(serde_json::json!({ "field": "url" })))
        })?;
        let tls = tls::client_config(&target)?.map(MakeRustlsConnect::new);
        config.ssl_mode(if tls.is_some() { ::postgres::config::SslMode::Require } else { ::postgres::config::SslMode::Disable });
        config.connect_timeout(options.connect_timeout);
        // NOTICEs (`CREATE TABLE IF NOT EXISTS` skipping a table) are not the caller's.
        config.notice_callback(|_| {});
        let options = PgOptions { pool_size: options.pool_size.max(1), pooler: options.pooler || target.pooler, ..options };
        let threads = Threads::new(options.pool_size);
        let pool = PostgresPool(Arc::new(Shared {
            config,
            tls,
            options,
            typed: Mutex::new(HashMap::new()),
            state: Mutex::new(PoolState { idle: Vec::new(), open: 0, closed: false }),
            freed: Condvar::new(),
            threads,
        }));
        drop(pool.get()?);
        Ok(pool)
    }

    pub fn options(&self) -> &PgOptions {
        &self.0.options
    }

    /// Connections open, and how many of them are idle.
    pub fn counts(&self) -> (usize, usize) {
        let state = lock(&self.0.state);
        (state.open, state.idle.len())
    }

    /// Runs one unit of work on a connection the pool lends. When the connection turns
    /// out to have died while it was idle (the server restarted, or ended it) before the
    /// server read anything of this work, the pool's other idle connections are dropped
    /// too (they died with it) and the work is run once more, on a new connection: so a
    /// call made after the server came back does not fail for a connection that died
    /// while nobody used it. A failure after the server answered anything is the call's.
    pub fn run<T>(&self, work: impl Fn(&PostgresEngine) -> Result<T>) -> Result<T> {
        let engine = self.get()?;
        match work(&engine) {
            Err(err) if err.code == UNAVAILABLE && engine.died_idle() => {
                drop(engine);
                self.drop_idle();
                work(&self.get()?)
            }
            done => done,
        }
    }

    /// Runs `work` as `run` does, on one of the pool's threads, then hands its result to
    /// `done` on that thread. The pool starts a thread when none is free, up to
    /// `pool_size`; beyond, the work waits its turn in order, and fails with `BUSY` unrun
    /// when it waited longer than `acquire_timeout` (as `get` does when no connection
    /// frees up). Work that panics is `INTERNAL`. Once the pool is closed, work still
    /// queued gets `CLOSED`, and the threads end.
    pub fn spawn<T: 'static>(
        &self,
        work: impl Fn(&PostgresEngine) -> Result<T> + Send + 'static,
        done: impl FnOnce(Result<T>) + Send + 'static,
    ) {
        let pool = self.clone();
        let queued = Instant::now();
        self.0.threads.submit(Box::new(move || {
            let options = &pool.0.options;
            let result = if queued.elapsed() > options.acquire_timeout && !lock(&pool.0.state).closed {
                Err(errors::pool_exhausted(options.pool_size, options.acquire_timeout))
            } else {
                panic::catch_unwind(AssertUnwindSafe(|| pool.run(&work)))
                    .unwrap_or_else(|_| Err(CpError::new("INTERNAL", "PostgreSQL: the call panicked", None)))
            };
            drop(pool);
            done(result);
        }));
    }

    /// Threads the pool has started for `spawn` and that have not ended.
    pub fn threads(&self) -> usize {
        self.0.threads.count()
    }

    /// Closes every idle connection (they are opened again as needed).
    fn drop_idle(&self) {
        let idle = {
            let mut state = lock(&self.0.state);
            state.open -= state.idle.len();
            std::mem::take(&mut state.idle)
        };
        drop(idle);
        self.0.freed.notify_all();
    }

    /// A connection for a unit of work: an idle one, a new one while the pool has room,
    /// or the next one given back, waiting up to `acquire_timeout` (then `BUSY`).
    pub fn get(&self) -> Result<PostgresEngine> {
        let options = &self.0.options;
        let deadline = Instant::now() + options.acquire_timeout;
        let mut state = lock(&self.0.state);
        loop {
            if state.closed {
                return Err(CpError::new("CLOSED", "PostgreSQL: the connection pool is closed", None));
            }
            if let Some(conn) = state.idle.pop() {
                if conn.client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(self.lend(conn));
            }
            if state.open < options.pool_size {
                state.open += 1;
                drop(state);
                return match self.open() {
                    Ok(conn) => Ok(self.lend(conn)),
                    Err(err) => {
                        lock(&self.0.state).open -= 1;
                        self.0.freed.notify_one();
                        Err(err)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(errors::pool_exhausted(options.pool_size, options.acquire_timeout));
            }
            state = self.0.freed.wait_timeout(state, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Closes the idle connections and refuses to lend any more; those lent out close
    /// when given back. `spawn`'s threads end once they ran what is queued.
    pub fn close(&self) {
        lock(&self.0.state).closed = true;
        self.drop_idle();
        self.0.threads.close();
    }

    fn lend(&self, mut conn: Conn) -> PostgresEngine {
        conn.answered = false;
        PostgresEngine { pool: self.0.clone(), conn: Some(RefCell::new(conn)) }
    }

    fn open(&self) -> Result<Conn> {
        let shared = &self.0;
        let client = match &shared.tls {
            None => shared.config.connect(NoTls),
            Some(tls) => shared.config.connect(tls.clone()),
        }
        .map_err(|e| errors::connect_error(&e))?;
        let mut conn =
            Conn { client, statements: HashMap::new(), depth: 0, aborted: false, broken: false, answered: false, ended_by_server: false };
        // Generic plans from the first execution: the core's statements are prepared once
        // per connection and run many times, and planning the window sums' statements
        // anew for each call's values (the default for a statement's first five runs, and
        // after, whenever the generic plan looks no cheaper) costs more than running them.
        // Behind a pooler in transaction mode a session's settings would reach whichever
        // client gets the server connection next: each transaction sets them for itself
        // (`begin`), and statements are sent unnamed (planned for their values anyway).
        if !shared.options.pooler {
            let settings = format!("SET plan_cache_mode = force_generic_plan; {}", settings(&shared.options, "SET"));
            conn.client.batch_execute(&settings).map_err(|e| errors::connect_error(&e))?;
        }
        Ok(conn)
    }
}

/// The timeouts as statements: `SET` for a session, `SET LOCAL` for one transaction.
fn settings(options: &PgOptions, set: &str) -> String {
    let mut out = format!("{set} lock_timeout = {}", options.lock_timeout.as_millis());
    if let Some(timeout) = options.statement_timeout {
        out.push_str(&format!("; {set} statement_timeout = {}", timeout.as_millis()));
    }
    out
}

/// Sends a statement unnamed, with its parameters' types, and reads its rows and the rows
/// it changed: one round trip (Parse, Bind, Execute and Sync together).
fn typed_rows(
    client: &mut Client,
    typed: &Typed,
    bound: &[values::Bound<'_>],
) -> std::result::Result<(Vec<::postgres::Row>, u64), ::postgres::Error> {
    let params = bound.iter().zip(typed.params.iter()).map(|(b, t)| (b as &(dyn ToSql + Sync), t.clone()));
    let mut it = client.query_typed_raw(&typed.text, params)?;
    let mut rows = Vec::new();
    while let Some(row) = ::postgres::fallible_iterator::FallibleIterator::next(&mut it)? {
        rows.push(row);
    }
    let changes = it.rows_affected().unwrap_or(rows.len() as u64);
    Ok((rows, changes))
}

/// Takes back a connection: idle again if it is sound, else closed.
impl Shared {
    fn give_back(&self, conn: Conn) {
        let mut state = lock(&self.state);
        let keep = !conn.broken && !conn.client.is_closed() && !state.closed && conn.depth == 0;
        let dropped = if keep {
            state.idle.push(conn);
            None
        } else {
            state.open -= 1;
            Some(conn)
        };
        drop(state);
        // Closing a connection sends a message: not under the pool's lock.
        drop(dropped);
        self.freed.notify_one();
    }
}

/// A connection lent by the pool, as the core's engine. Not `Sync`: one thread uses it
/// at a time. Dropping it gives the connection back.
pub struct PostgresEngine {
    pool: Arc<Shared>,
    conn: Option<RefCell<Conn>>,
}

impl PostgresEngine {
    /// Whether the server is reached through a pooler in transaction mode.
    pub fn behind_pooler(&self) -> bool {
        self.pool.options.pooler
    }

    fn conn(&self) -> RefMut<'_, Conn> {
        self.conn.as_ref().expect("a lent connection until dropped").borrow_mut()
    }

    /// Runs one statement: its rows, and the rows it changed (for a statement that returns
    /// rows, as many as it returned).
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<(Vec<::postgres::Row>, u64)> {
        let mut conn = self.conn();
        if self.pool.options.pooler {
            let typed = self.typed(&mut conn, sql)?;
            let bound = bind_all(&typed.params, params)?;
            let sent = typed_rows(&mut conn.client, &typed, &bound);
            let done = sent.map_err(|e| conn.failed(&e))?;
            conn.answered = true;
            return Ok(done);
        }
        let statement = conn.statement(sql)?;
        let bound = bind_all(statement.params(), params)?;
        let done = if statement.columns().is_empty() {
            conn.client.execute(&statement, &refs(&bound)).map(|changes| (Vec::new(), changes))
        } else {
            conn.client.query(&statement, &refs(&bound)).map(|rows| {
                let n = rows.len() as u64;
                (rows, n)
            })
        };
        let done = done.map_err(|e| conn.failed(&e))?;
        conn.answered = true;
        Ok(done)
    }

    /// Behind a pooler in transaction mode: the statement's text and its parameters'
    /// types, learned once per text for the whole pool by preparing it where the pooler
    /// keeps one server connection, inside a transaction (the one open, or one of its
    /// own), and closing it before that transaction ends, so no statement is left on a
    /// server connection for another client to meet.
    fn typed(&self, conn: &mut Conn, sql: &str) -> Result<Typed> {
        if let Some(typed) = self.pool.typed.lock().unwrap_or_else(|p| p.into_inner()).get(sql) {
            return Ok(typed.clone());
        }
        let text: Arc<str> = placeholders::dollar(sql).into();
        let own = conn.depth == 0;
        if own {
            conn.batch("BEGIN")?;
        }
        // Dropped at once: its Close goes out before the transaction's end.
        let prepared = conn.client.prepare(&text).map(|statement| statement.params().to_vec());
        let prepared = prepared.map_err(|e| conn.failed(&e));
        if own && !conn.broken {
            let end = conn.client.batch_execute(if prepared.is_ok() { "COMMIT" } else { "ROLLBACK" });
            end.map_err(|e| conn.failed(&e))?;
        }
        let typed = Typed { text, params: prepared?.into() };
        conn.answered = true;
        self.pool.typed.lock().unwrap_or_else(|p| p.into_inner()).insert(sql.to_string(), typed.clone());
        Ok(typed)
    }

    /// Whether the connection failed as one that died while idle does: ended by the
    /// server before the server answered anything since it was lent.
    fn died_idle(&self) -> bool {
        let conn = self.conn();
        conn.broken && conn.ended_by_server && !conn.answered
    }
}

impl Drop for PostgresEngine {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut conn = conn.into_inner();
            if conn.depth > 0 && !conn.broken {
                // A scope left open (a panic in the core): undone before anyone else uses it.
                conn.broken = conn.client.batch_execute("ROLLBACK").is_err();
                conn.depth = 0;
                conn.aborted = false;
            }
            self.pool.give_back(conn);
        }
    }
}

struct PgRow<'r>(&'r ::postgres::Row);

impl Row for PgRow<'_> {
    fn value(&self, column: usize) -> Result<SqlValue<'_>> {
        let ty = self.0.columns().get(column).map(|c| c.type_()).ok_or_else(|| {
            CpError::new("STORAGE_ERROR", format!("PostgreSQL: no column {column} in the row"), None)
        })?;
        let raw: values::Raw = self
            .0
            .try_get(column)
            .map_err(|e| CpError::new("STORAGE_ERROR", format!("PostgreSQL: column {column}: {e}"), None))?;
        values::read(ty, raw.0, column)
    }
}

impl Engine for PostgresEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn statement_lock_timeout(&self) -> Option<String> {
        self.pool.options.pooler.then(|| self.pool.options.lock_timeout.as_millis().to_string())
    }

    fn run(&self, sql: &str, params: &[SqlValue]) -> Result<Done> {
        let (rows, changes) = self.execute(sql, params)?;
        // `... RETURNING id`: the last row's id is the last inserted.
        let last_insert_id = match rows.last() {
            Some(row) => match PgRow(row).value(0)? {
                SqlValue::Int(id) => id,
                _ => 0,
            },
            None => 0,
        };
        Ok(Done { changes, last_insert_id })
    }

    fn query(&self, sql: &str, params: &[SqlValue], each: &mut dyn FnMut(&dyn Row) -> Result<bool>) -> Result<()> {
        // The rows are read whole, then handed over with the connection free again, so
        // `each` may run statements of its own.
        let (rows, _) = self.execute(sql, params)?;
        for row in &rows {
            if !each(&PgRow(row))? {
                break;
            }
        }
        Ok(())
    }

    fn script(&self, sql: &str) -> Result<()> {
        self.conn().batch(sql)
    }

    fn begin(&self, scope: Scope<'_>) -> Result<Opened> {
        let mut conn = self.conn();
        // Nested, a write takes its locks too (again, for the same ones: advisory locks
        // count their holds), so a scope for one org inside another's holds both.
        let (opened, mut sql) = match (scope, conn.depth > 0) {
            (Scope::Read, true) => return Ok(Opened::Nothing),
            (Scope::Read, false) => (Opened::Transaction, "BEGIN ISOLATION LEVEL REPEATABLE READ".to_string()),
            (_, false) => (Opened::Transaction, "BEGIN".to_string()),
            (_, true) => (Opened::Savepoint, "SAVEPOINT cp_write".to_string()),
        };
        // Behind a pooler in transaction mode the settings go with each transaction.
        if opened == Opened::Transaction && self.pool.options.pooler {
            sql.push_str("; ");
            sql.push_str(&settings(&self.pool.options, "SET LOCAL"));
        }
        match scope {
            Scope::Write => sql.push_str(&format!("; SELECT pg_advisory_xact_lock({WRITE_LOCK})")),
            Scope::WriteOrg(org_id) => sql.push_str(&format!("; {}", org_lock_sql(org_id))),
            Scope::Read => {}
        }
        match conn.batch(&sql) {
            Ok(()) => {
                conn.depth += 1;
                Ok(opened)
            }
            Err(err) => {
                // `BEGIN` ran and the lock was not had: the transaction is open, and aborted.
                if opened == Opened::Transaction && !conn.broken {
                    conn.broken = conn.client.batch_execute("ROLLBACK").is_err();
                }
                Err(err)
            }
        }
    }

    fn end(&self, opened: Opened, commit: bool) -> Result<()> {
        let mut conn = self.conn();
        match opened {
            Opened::Nothing => Ok(()),
            // Already closed: a COMMIT that failed ended the transaction.
            Opened::Transaction if conn.depth == 0 => Ok(()),
            Opened::Transaction => {
                let aborted = conn.aborted;
                let result = conn.client.batch_execute(if commit && !aborted { "COMMIT" } else { "ROLLBACK" });
                conn.depth = 0;
                conn.aborted = false;
                match result {
                    Err(e) => Err(conn.failed(&e)),
                    Ok(()) if commit && aborted => Err(errors::aborted_transaction()),
                    Ok(()) => Ok(()),
                }
            }
            Opened::Savepoint if commit => {
                conn.batch("RELEASE SAVEPOINT cp_write")?;
                conn.depth -= 1;
                Ok(())
            }
            Opened::Savepoint => {
                let result = conn.batch("ROLLBACK TO SAVEPOINT cp_write; RELEASE SAVEPOINT cp_write");
                if result.is_ok() {
                    conn.depth -= 1;
                    conn.aborted = false;
                }
                result
            }
        }
    }
}
