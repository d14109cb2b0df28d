//! The one statement interface the core talks to, and the engines behind it.
//!
//! The domain (the concern modules of this crate) holds its SQL text and its parameters; an engine runs them.
//! Values cross as our own small enum, never a driver's type, so an engine can be our
//! rusqlite connection (`sqlite`), the caller's own JavaScript SQLite handle
//! (the binding's host engine), or later a PostgreSQL connection.
//!
//! SQL text uses SQLite's numbered parameters (`?1`, `?2`, a number may repeat); an
//! engine whose driver numbers differently rewrites them once per statement text
//! (`placeholders`). Where the SQL itself differs, the engine's `dialect` says which form
//! of a statement to hand it.

pub mod memo;
pub mod placeholders;
pub mod postgres;
pub mod sqlite;

pub use memo::Memo;

use crate::error::{CpError, Result};

/// A value bound to a statement or read from a row; text and blobs are borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SqlValue<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// An owned `SqlValue`, for engines whose rows are not borrowed from a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlData {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl SqlData {
    pub fn as_value(&self) -> SqlValue<'_> {
        match self {
            SqlData::Null => SqlValue::Null,
            SqlData::Int(i) => SqlValue::Int(*i),
            SqlData::Real(f) => SqlValue::Real(*f),
            SqlData::Text(s) => SqlValue::Text(s),
            SqlData::Blob(b) => SqlValue::Blob(b),
        }
    }
}

/// What a statement that writes did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Done {
    pub changes: u64,
    pub last_insert_id: i64,
}

/// One row of a result; columns by position.
pub trait Row {
    fn value(&self, column: usize) -> Result<SqlValue<'_>>;
}

/// The kind of scope a unit of work needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Writes that may touch any org's rows (schema changes, a move, a check of every
    /// org's rollups): takes the write lock up front (so two writers cannot both read, then
    /// both write), or nests as a savepoint in a transaction the owner already has open.
    Write,
    /// Writes of one org's rows. SQLite has one writer whatever the org, so this is
    /// `Write` there; on PostgreSQL, writers of different orgs run side by side, each
    /// holding its org's lock (and the shared side of the lock `Write` takes whole).
    WriteOrg(&'a str),
    /// Several reads against one snapshot.
    Read,
}

/// What `begin` opened, handed back to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    Transaction,
    Savepoint,
    /// Already inside the owner's transaction: a read needs nothing more.
    Nothing,
}

/// Which SQL an engine speaks, for the statements whose text differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: our connections and the caller's JS handles.
    Sqlite,
    /// PostgreSQL (`postgres::PostgresEngine`).
    Postgres,
}

/// What differs between the dialects, both forms side by side: SQLite's and PostgreSQL's
/// text of a statement or of a piece of one (or anything else a dialect decides), stated
/// where the statement is. The one way the core says a dialect difference; `pick` (or
/// `Db::pick`) the one way it chooses. A statement the same in both is one text; work that
/// takes another path on one engine (a step PostgreSQL needs, a form it binds otherwise)
/// is code that branches on `dialect()`, not text; so is a text formatted on every call
/// from pieces one dialect alone uses (`Both` would format both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Both<T> {
    pub sqlite: T,
    pub postgres: T,
}

impl<T> Both<T> {
    /// The form for `dialect`.
    pub fn pick(self, dialect: Dialect) -> T {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

impl Dialect {
    /// Text parameter `n` where nothing in the statement says its type (`?N IS NULL`):
    /// PostgreSQL must be told it.
    pub fn text_param(self, n: u8) -> String {
        let (open, close) = Both { sqlite: ("?", ""), postgres: ("CAST(?", " AS TEXT)") }.pick(self);
        format!("{open}{n}{close}")
    }
}

/// A statement's text built once per dialect, for the texts put together from parts.
pub(crate) struct Built([std::sync::OnceLock<String>; 2]);

impl Built {
    pub(crate) const fn new() -> Built {
        Built([std::sync::OnceLock::new(), std::sync::OnceLock::new()])
    }

    /// The text for `dialect`, built by `build` the first time.
    pub(crate) fn get(&self, dialect: Dialect, build: impl FnOnce(Dialect) -> String) -> &str {
        self.0[dialect as usize].get_or_init(|| build(dialect))
    }
}

/// The statement interface. Small on purpose: run a statement, stream a query's rows,
/// run a script of statements, and open and close a scope.
pub trait Engine {
    /// The SQL this engine speaks; every engine but PostgreSQL's is SQLite.
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    /// Runs one statement with its parameters; rows it returns are ignored.
    fn run(&self, sql: &str, params: &[SqlValue]) -> Result<Done>;
    /// Runs a query, calling `each` with every row until it returns `Ok(false)`.
    fn query(&self, sql: &str, params: &[SqlValue], each: &mut dyn FnMut(&dyn Row) -> Result<bool>) -> Result<()>;
    /// Runs several statements without parameters (schema scripts).
    fn script(&self, sql: &str) -> Result<()>;
    fn begin(&self, scope: Scope<'_>) -> Result<Opened>;
    /// Commits (`commit`) or rolls back what `begin` opened.
    fn end(&self, opened: Opened, commit: bool) -> Result<()>;
    /// What the core remembers of this connection between calls (`memo`), if the engine
    /// keeps it: guesses that save a read, each checked by the statement that uses it.
    fn memo(&self) -> Option<&Memo> {
        None
    }
    /// The `lock_timeout` (milliseconds, as text) a write made of one statement outside a
    /// transaction sets for itself before it waits for a lock (`set_config(..., true)`),
    /// where the session does not have it: behind a pooler in transaction mode, whose
    /// server connections keep no client's settings (a transaction's `begin` sets them
    /// with `SET LOCAL`). `None`: the session has it.
    fn statement_lock_timeout(&self) -> Option<String> {
        None
    }
}

/// The engine as the core's functions take it.
pub type Db<'a> = dyn Engine + 'a;

/// Conversions from a column's value, lenient where a host binding's numbers are
/// JavaScript numbers (an integral REAL reads as an integer, an INTEGER as a float).
pub trait FromSql<'a>: Sized {
    fn from_sql(value: SqlValue<'a>, column: usize) -> Result<Self>;
}

fn wrong_type(column: usize, wanted: &str, got: SqlValue) -> CpError {
    let got = match got {
        SqlValue::Null => "NULL",
        SqlValue::Int(_) => "INTEGER",
        SqlValue::Real(_) => "REAL",
        SqlValue::Text(_) => "TEXT",
        SqlValue::Blob(_) => "BLOB",
    };
    CpError::new("STORAGE_ERROR", format!("SQLite: column {column} is {got}, expected {wanted}"), None)
}

/// A JavaScript number that is a whole number well inside 64 bits, as an integer (`as`
/// would saturate past them).
pub fn whole_number(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
}

impl<'a> FromSql<'a> for i64 {
    fn from_sql(value: SqlValue<'a>, column: usize) -> Result<Self> {
        match value {
            SqlValue::Int(i) => Ok(i),
            SqlValue::Real(f) => whole_number(f).ok_or_else(|| wrong_type(column, "INTEGER", value)),
            other => Err(wrong_type(column, "INTEGER", other)),
        }
    }
}

impl<'a> FromSql<'a> for f64 {
    fn from_sql(value: SqlValue<'a>, column: usize) -> Result<Self> {
        match value {
            SqlValue::Real(f) => Ok(f),
            SqlValue::Int(i) => Ok(i as f64),
            other => Err(wrong_type(column, "REAL", other)),
        }
    }
}

impl<'a> FromSql<'a> for bool {
    fn from_sql(value: SqlValue<'a>, column: usize) -> Result<Self> {
        Ok(i64::from_sql(value, column)? != 0)
    }
}

impl<'a> FromSql<'a> for &'a str {
    fn from_sql(value: SqlValue<'a>, column: usize) -> Result<Self> {
        match value {
            SqlValue::Text(s) => Ok(s),
            other => Err(wrong_type(column, "TEXT", other)),
        }
    }
}

impl<'a> FromSql<'a> for String {
    fn from_sql(value: SqlValue<'a>, column: usize) -> Result<Self> {
        <&str>::from_sql(value, column).map(str::to_string)
    }
}

impl<'a> FromSql<'a> for Vec<u8> {
    fn from_sql(value: SqlValue<'a>, column: usize) -> Result<Self> {
        match value {
            SqlValue::Blob(b) => Ok(b.to_vec()),
            other => Err(wrong_type(column, "BLOB", other)),
        }
    }
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Option<T> {
    fn from_sql(value: SqlValue<'a>, column: usize) -> Result<Self> {
        match value {
            SqlValue::Null => Ok(None),
            v => T::from_sql(v, column).map(Some),
        }
    }
}

impl dyn Row + '_ {
    /// The column's value as `T`.
    pub fn get<'r, T: FromSql<'r>>(&'r self, column: usize) -> Result<T> {
        T::from_sql(self.value(column)?, column)
    }
}

/// A value as a statement parameter.
pub(crate) trait ToSql {
    fn to_sql(&self) -> SqlValue<'_>;
}

impl ToSql for SqlValue<'_> {
    fn to_sql(&self) -> SqlValue<'_> {
        *self
    }
}
impl ToSql for i64 {
    fn to_sql(&self) -> SqlValue<'_> {
        SqlValue::Int(*self)
    }
}
impl ToSql for i32 {
    fn to_sql(&self) -> SqlValue<'_> {
        SqlValue::Int(*self as i64)
    }
}
impl ToSql for u32 {
    fn to_sql(&self) -> SqlValue<'_> {
        SqlValue::Int(*self as i64)
    }
}
impl ToSql for usize {
    fn to_sql(&self) -> SqlValue<'_> {
        SqlValue::Int(*self as i64)
    }
}
impl ToSql for bool {
    fn to_sql(&self) -> SqlValue<'_> {
        SqlValue::Int(*self as i64)
    }
}
impl ToSql for f64 {
    fn to_sql(&self) -> SqlValue<'_> {
        SqlValue::Real(*self)
    }
}
impl ToSql for str {
    fn to_sql(&self) -> SqlValue<'_> {
        SqlValue::Text(self)
    }
}
impl ToSql for String {
    fn to_sql(&self) -> SqlValue<'_> {
        SqlValue::Text(self)
    }
}
impl ToSql for [u8] {
    fn to_sql(&self) -> SqlValue<'_> {
        SqlValue::Blob(self)
    }
}
impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> SqlValue<'_> {
        (**self).to_sql()
    }
}
impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> SqlValue<'_> {
        match self {
            Some(v) => v.to_sql(),
            None => SqlValue::Null,
        }
    }
}

/// A statement's parameters, from values of any `ToSql` type: `params![org_id, at]`.
macro_rules! params {
    () => { &[] as &[$crate::engine::SqlValue] };
    ($($value:expr),+ $(,)?) => {
        &[$($crate::engine::ToSql::to_sql(&$value)),+] as &[$crate::engine::SqlValue]
    };
}
pub(crate) use params;

/// The helpers the core writes its statements with, over any engine.
impl dyn Engine + '_ {
    /// The form this engine's dialect takes of what differs (`Both`).
    pub(crate) fn pick<T>(&self, both: Both<T>) -> T {
        both.pick(self.dialect())
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        Ok(self.run(sql, params)?.changes)
    }

    /// Runs an INSERT; the id of the row it inserted.
    pub(crate) fn insert(&self, sql: &str, params: &[SqlValue]) -> Result<i64> {
        Ok(self.run(sql, params)?.last_insert_id)
    }

    /// The first row, read by `f`, or `None` when there is none.
    pub(crate) fn row<T>(&self, sql: &str, params: &[SqlValue], f: impl FnOnce(&dyn Row) -> Result<T>) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.query(sql, params, &mut |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(false)
        })?;
        Ok(out)
    }

    /// The first row, read by `f`; a query that must return one (an aggregate).
    pub fn one<T>(&self, sql: &str, params: &[SqlValue], f: impl FnOnce(&dyn Row) -> Result<T>) -> Result<T> {
        self.row(sql, params, f)?
            .ok_or_else(|| CpError::new("STORAGE_ERROR", "SQLite: Query returned no rows", None))
    }

    /// Every row, each read by `f`.
    pub(crate) fn rows<T>(&self, sql: &str, params: &[SqlValue], mut f: impl FnMut(&dyn Row) -> Result<T>) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query(sql, params, &mut |r| {
            out.push(f(r)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Calls `f` with every row, in order.
    pub(crate) fn each(&self, sql: &str, params: &[SqlValue], mut f: impl FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        self.query(sql, params, &mut |r| f(r).map(|()| true))
    }

    /// Whether the query returns a row.
    pub(crate) fn exists(&self, sql: &str, params: &[SqlValue]) -> Result<bool> {
        Ok(self.row(sql, params, |_| Ok(()))?.is_some())
    }
}

/// The SQL of scopes on SQLite, shared by our connections and host handles.
pub mod sqlite_scope {
    use super::{Opened, Scope};

    const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
    pub const BEGIN_READ: &str = "BEGIN";
    const SAVEPOINT: &str = "SAVEPOINT cp_write";
    const COMMIT: &str = "COMMIT";
    const ROLLBACK: &str = "ROLLBACK";
    const ROLLBACK_SAVEPOINT: &str = "ROLLBACK TO cp_write";
    const RELEASE: &str = "RELEASE cp_write";

    /// What to open given whether the connection is already in a transaction.
    pub fn plan(scope: Scope, in_transaction: bool) -> (Opened, Option<&'static str>) {
        match (scope, in_transaction) {
            (Scope::Write | Scope::WriteOrg(_), false) => (Opened::Transaction, Some(BEGIN_WRITE)),
            (Scope::Write | Scope::WriteOrg(_), true) => (Opened::Savepoint, Some(SAVEPOINT)),
            (Scope::Read, false) => (Opened::Transaction, Some(BEGIN_READ)),
            (Scope::Read, true) => (Opened::Nothing, None),
        }
    }

    /// The statements that close what was opened.
    pub fn closing(opened: Opened, commit: bool) -> &'static [&'static str] {
        match (opened, commit) {
            (Opened::Transaction, true) => &[COMMIT],
            (Opened::Transaction, false) => &[ROLLBACK],
            (Opened::Savepoint, true) => &[RELEASE],
            (Opened::Savepoint, false) => &[ROLLBACK_SAVEPOINT, RELEASE],
            (Opened::Nothing, _) => &[],
        }
    }
}
