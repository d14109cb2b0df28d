//! PostgreSQL's failures as the core's errors, with the codes the SQLite engine gives the
//! same situations: `BUSY` for what a retry may fix (a lock not had in time, a
//! serialization failure, a deadlock), `STORAGE_ERROR` with the constraint's kind for a
//! refused statement, and `UNAVAILABLE` when the server cannot be reached or the
//! connection is gone. `details.pgCode` is the SQLSTATE, as `details.sqliteCode` is
//! SQLite's code. An `UNAVAILABLE` error also says whether waiting may fix it
//! (`details.transient`): a lost connection or a server that is down, restarting or full
//! may come back; a database or role that does not exist, a refused password or a failed
//! TLS check will not until the configuration changes, so a retry loop must stop there.

use crate::error::{Constraint, CpError};
use ::postgres::error::{DbError, SqlState};
use serde_json::{json, Map, Value};

/// The code of an error that says the store cannot reach its database (the errors below
/// write it out: the code's every use is a literal, for docs/errors.md's check).
pub const UNAVAILABLE: &str = "UNAVAILABLE";

/// What became of the connection a failure happened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// The server refused the statement; the connection is fine (a transaction on it is
    /// aborted until rolled back).
    Refused,
    /// Nothing reached the server (a parameter of the wrong type).
    NotSent,
    /// The connection is gone: it must not go back to the pool.
    Broken,
}

/// A failure of a statement (or of `BEGIN`, `COMMIT`...) on a connection.
pub(crate) fn statement_error(err: &::postgres::Error) -> (CpError, Fate) {
    if let Some(db) = err.as_db_error() {
        let mut cp = db_error(db);
        if connection_state(db.code()) {
            cp.code = "UNAVAILABLE";
            set_transient(&mut cp, true);
            return (cp, Fate::Broken);
        }
        if retryable(db.code()) {
            cp.code = "BUSY";
        }
        return (cp, Fate::Refused);
    }
    // No SQLSTATE: the socket failed or closed, the protocol broke, or a value did not
    // convert (our own conversions run before anything is sent, so that is rare).
    let text = chain(err);
    if err.is_closed() || has_io_source(err) {
        let summary = format!("PostgreSQL: the connection to the server is lost: {text}");
        return (unavailable(summary, true), Fate::Broken);
    }
    (CpError::new("STORAGE_ERROR", format!("PostgreSQL: {text}"), Some(json!({ "pgCode": null }))), Fate::NotSent)
}

/// A failure to open a connection: whatever the cause (no server, a refused login, a
/// failed TLS handshake, a database that does not exist), the store cannot reach its
/// database. `details.pgCode` tells a refusal by the server from a network failure, and
/// `details.transient` whether waiting may fix it.
pub(crate) fn connect_error(err: &::postgres::Error) -> CpError {
    match err.as_db_error() {
        Some(db) => {
            let mut cp = db_error(db);
            cp.code = "UNAVAILABLE";
            cp.summary = format!("PostgreSQL: cannot connect: {}", db.message());
            // A server starting, shutting down or out of connections is transient; a
            // database or role that does not exist or a refused login (3D000, 28xxx) is not.
            set_transient(&mut cp, connection_state(db.code()));
            cp
        }
        None => {
            // tokio-postgres words a failed handshake or certificate check (and a server
            // that does not offer TLS where it is required) "error performing TLS
            // handshake": configuration, where a refused or timed-out socket is not.
            let tls = err.to_string().starts_with("error performing TLS handshake");
            unavailable(format!("PostgreSQL: cannot connect: {}", chain(err)), !tls)
        }
    }
}

/// `UNAVAILABLE` without a SQLSTATE: the socket, TLS or a file the connection needs failed.
pub(crate) fn unavailable(summary: String, transient: bool) -> CpError {
    CpError::new("UNAVAILABLE", summary, Some(json!({ "pgCode": null, "transient": transient })))
}

fn set_transient(cp: &mut CpError, transient: bool) {
    if let Some(Value::Object(details)) = cp.details.as_mut() {
        details.insert("transient".into(), Value::Bool(transient));
    }
}

/// Whether a failure says the server had ended the connection before it read what was
/// sent on it, so nothing sent was done: the server's last words on a connection it
/// ends while idle (57P01 an administrator or a fast shutdown, 57P02 a crash of another
/// backend, 57P03 a server not yet up), or a client that already knew it was closed.
pub(crate) fn ended_by_server(err: &::postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    err.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::ADMIN_SHUTDOWN || *db.code() == SqlState::CRASH_SHUTDOWN || *db.code() == SqlState::CANNOT_CONNECT_NOW
    })
}

/// Whether a refusal with `state` is `BUSY`: what a retry may get past.
fn retryable(state: &SqlState) -> bool {
    *state == SqlState::T_R_SERIALIZATION_FAILURE
        || *state == SqlState::T_R_DEADLOCK_DETECTED
        || *state == SqlState::LOCK_NOT_AVAILABLE
}

/// Whether `state` says the connection is over: class 08 (connection exception), the
/// server shutting down or terminating this backend (57P01-57P03), too many connections.
fn connection_state(state: &SqlState) -> bool {
    let code = state.code();
    code.starts_with("08")
        || *state == SqlState::ADMIN_SHUTDOWN
        || *state == SqlState::CRASH_SHUTDOWN
        || *state == SqlState::CANNOT_CONNECT_NOW
        || *state == SqlState::TOO_MANY_CONNECTIONS
}

/// The constraint kind of a violation: a unique index that is a primary key (PostgreSQL
/// names those `<table>_pkey` unless told otherwise) is `PrimaryKey`, as SQLite reports.
fn constraint_of(db: &DbError) -> Option<Constraint> {
    let state = db.code();
    if *state == SqlState::UNIQUE_VIOLATION {
        Some(if db.constraint().is_some_and(|c| c.ends_with("_pkey")) { Constraint::PrimaryKey } else { Constraint::Unique })
    } else if *state == SqlState::FOREIGN_KEY_VIOLATION {
        Some(Constraint::ForeignKey)
    } else if state.code().starts_with("23") {
        // not_null_violation 23502, check_violation 23514, exclusion 23P01, ...
        Some(Constraint::Other)
    } else {
        None
    }
}

/// `STORAGE_ERROR` for a refusal, with its SQLSTATE and what it names; callers set
/// another code where it is one.
fn db_error(db: &DbError) -> CpError {
    let mut details = Map::new();
    details.insert("pgCode".into(), Value::String(db.code().code().to_string()));
    for (key, value) in [("table", db.table()), ("column", db.column()), ("constraint", db.constraint())] {
        if let Some(value) = value {
            details.insert(key.into(), Value::String(value.to_string()));
        }
    }
    let mut summary = format!("PostgreSQL: {}", db.message());
    if let Some(detail) = db.detail() {
        summary.push_str(" (");
        summary.push_str(detail);
        summary.push(')');
    }
    let mut cp = CpError::new("STORAGE_ERROR", summary, Some(Value::Object(details)));
    cp.constraint = constraint_of(db);
    cp
}

/// The error and its causes, as one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn has_io_source(err: &::postgres::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// `BUSY`: every connection of the pool stayed in use for the whole wait.
pub(crate) fn pool_exhausted(size: usize, waited: std::time::Duration) -> CpError {
    CpError::new(
        "BUSY",
        format!("PostgreSQL: all {size} connections of the pool stayed in use for {} ms", waited.as_millis()),
        Some(json!({ "poolSize": size })),
    )
}

/// A transaction PostgreSQL had aborted (a statement in it failed, and the failure was
/// not undone by rolling back to a savepoint): `COMMIT` rolled it back instead.
pub(crate) fn aborted_transaction() -> CpError {
    CpError::new(
        "STORAGE_ERROR",
        "PostgreSQL: the transaction was rolled back: a statement in it had failed, which aborts a \
         PostgreSQL transaction (run a statement that may fail in a nested write scope, a savepoint)",
        Some(json!({ "pgCode": SqlState::IN_FAILED_SQL_TRANSACTION.code() })),
    )
}
