//! The engine on the caller's own SQLite handle: bun:sqlite's or better-sqlite3's
//! `Database`, node:sqlite's `DatabaseSync`, or any object with `exec(sql)` and
//! `query(sql)` (or `prepare(sql)`) returning statements with `run`/`all`. Every statement
//! of the core runs on that handle's connection, on the JS thread, exactly as the
//! documented store's do: the owner's raw SQL sees our rows at once, our writes join the
//! owner's open transaction, and no second connection (nor second copy of SQLite) ever
//! touches the file.
//!
//! Statements are prepared once per SQL text and kept (bun:sqlite's `query` caches too;
//! better-sqlite3 and node:sqlite do not). Rows are read as arrays where the binding can
//! return them (`values()`, `raw(true)`, `setReturnArrays(true)`), else as objects in
//! column order: the core names every column distinctly (checked in debug builds by the
//! rusqlite engine), so an object keeps them all.

use control_plane_core::error::{CpError, Result};
use control_plane_core::engine::sqlite::sqlite_error;
use super::values::{sql_of, NotSql};
use control_plane_core::engine::{placeholders, sqlite_scope, Done, Engine, Memo, Opened, Row, Scope, SqlData, SqlValue};
use super::env_data::{take_exception, CallArgs, JsFunction};
use napi::bindgen_prelude::{Array, BigInt, BufferSlice, FromNapiValue, JsObjectValue, Null, Object, ObjectRef, ToNapiValue, Unknown};
use napi::{Env, JsValue, Status, ValueType};
use std::cell::{Cell, RefCell};
use hashbrown::HashMap;
use std::ffi::CStr;
use std::rc::Rc;

/// Statements kept per handle before the cache is emptied (the core's texts are few; the
/// audit queries' filters and the window sums' shapes make a bounded number more).
const STATEMENTS_KEPT: usize = 512;

/// How a statement hands back its rows.
#[derive(Clone, Copy, PartialEq)]
enum RowsVia {
    /// bun:sqlite: `values(...)` returns arrays.
    Values,
    /// better-sqlite3 in `raw(true)` mode, node:sqlite after `setReturnArrays(true)`:
    /// `all(...)` returns arrays.
    AllArrays,
    /// `all(...)` returns objects, their keys in column order.
    AllObjects,
}

struct Prepared {
    stmt: ObjectRef,
    meta: Rc<Meta>,
}

/// What the engine needs to know of a kept statement.
struct Meta {
    /// The index of each value bound, in order: for each `?` of the rewritten text, or
    /// each number of a text bound by number (`numbered`).
    order: Vec<usize>,
    rows: RowsVia,
    /// better-sqlite3 refuses `run` on a statement that returns rows.
    reader: bool,
}

/// The caller's handle, as the store keeps it between calls.
pub struct HostHandle {
    handle: ObjectRef,
    statements: RefCell<HashMap<String, Prepared>>,
    /// `prepare` where the handle has it, else `query` (the documented minimal handle).
    prepare: &'static CStr,
    /// The handle's own "in a transaction" flag, where it has one.
    transaction_flag: Option<&'static str>,
    /// Whether its statements bind SQLite's numbered parameters (`?1`, repeated) from an
    /// array themselves, as bun:sqlite's do: known from the first statement prepared (one
    /// with a numeric `paramsCount`). Then the core's text is prepared as it is and each
    /// value bound once; else every `?N` is rewritten as `?` and its value repeated (a
    /// window's sum names its org, metric and bounds some 70 times).
    numbered: Cell<Option<bool>>,
    /// What the core remembers of this connection between calls.
    memo: Memo,
}

impl HostHandle {
    /// Checks the handle's shape and keeps a reference to it.
    pub fn new(handle: Object) -> Result<HostHandle> {
        let is_function = |name: &str| property_is(&handle, name, ValueType::Function);
        let prepare = if is_function("prepare") {
            c"prepare"
        } else if is_function("query") {
            c"query"
        } else {
            return Err(not_a_handle());
        };
        if !is_function("exec") {
            return Err(not_a_handle());
        }
        let transaction_flag = if property_is(&handle, "inTransaction", ValueType::Boolean) {
            Some("inTransaction")
        } else if property_is(&handle, "isTransaction", ValueType::Boolean) {
            Some("isTransaction")
        } else {
            None
        };
        Ok(HostHandle {
            handle: handle.create_ref().map_err(napi_failure)?,
            statements: RefCell::default(),
            prepare,
            transaction_flag,
            numbered: Cell::new(None),
            memo: Memo::default(),
        })
    }

    /// Drops our references to the handle and its statements (the owner closes it).
    pub fn release(self, env: &Env) {
        for (_, p) in self.statements.into_inner() {
            let _ = p.stmt.unref(env);
        }
        let _ = self.handle.unref(env);
    }
}

/// Whether `object[name]` is of that kind (a function, a boolean).
fn property_is(object: &Object, name: &str, kind: ValueType) -> bool {
    object.get_named_property_unchecked::<Unknown>(name).and_then(|v| v.get_type()).is_ok_and(|t| t == kind)
}

fn not_a_handle() -> CpError {
    CpError::field(
        "sqlite",
        "sqlite must be a Database, a file path, ':memory:', or a SQLite database handle with exec(sql) and query(sql) or prepare(sql).",
    )
}

/// What each binding says when its database is closed, for a handle that has no open flag
/// of its own (the minimal handle over any of them): bun:sqlite ("Cannot use a closed
/// database", "Database has closed"), better-sqlite3 ("The database connection is not
/// open"), node:sqlite ("database is not open").
fn is_closed_message(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["closed database", "database has closed", "connection is not open", "database is not open"].iter().any(|m| message.contains(m))
}

fn napi_failure(err: napi::Error) -> CpError {
    CpError::new("INTERNAL", format!("Calling the SQLite handle: {}", err.reason), None)
}

/// The store's engine for one call: the handle and the JS environment of that call.
pub struct HostEngine<'a> {
    env: &'a Env,
    host: &'a HostHandle,
    /// The handle's transaction flag as `check_open` read it at the start of the call,
    /// for the call's first `begin` (which would otherwise read it again); spent there.
    flag_read: std::cell::Cell<Option<bool>>,
}

type Called<'e> = std::result::Result<Unknown<'e>, Unknown<'e>>;

impl<'a> HostEngine<'a> {
    pub fn new(env: &'a Env, host: &'a HostHandle) -> HostEngine<'a> {
        HostEngine { env, host, flag_read: std::cell::Cell::new(None) }
    }

    fn handle(&self) -> Result<Object<'a>> {
        self.host.handle.get_value(self.env).map_err(napi_failure)
    }

    /// `this[name](...args)`; the inner `Err` is the value the method threw (cleared).
    fn call(&self, this: &Object<'a>, name: &CStr, args: CallArgs) -> Result<Called<'a>> {
        // Not checked to be a function: calling what is not one fails below.
        let function: JsFunction<'a> = match this.get_c_named_property_unchecked(name) {
            Ok(function) => function,
            Err(err) if err.status == Status::PendingException => return Ok(Err(take_exception(self.env))),
            Err(_) => return Err(CpError::new("INTERNAL", format!("Reading {name:?} of the SQLite handle failed."), None)),
        };
        match function.apply(this, args) {
            Ok(out) => Ok(Ok(out)),
            Err(err) if err.status == Status::PendingException => Ok(Err(take_exception(self.env))),
            Err(_) => Err(CpError::new("INTERNAL", format!("Calling {name:?} on the SQLite handle failed."), None)),
        }
    }

    /// A JS value thrown by the handle, as our error: SQLite's code read from the
    /// binding's error (`code` such as `SQLITE_CONSTRAINT_UNIQUE`, or node:sqlite's
    /// `errcode`), and its message.
    fn thrown(&self, thrown: Unknown<'a>) -> CpError {
        let (code, errcode, message, cause) = match thrown.get_type() {
            Ok(ValueType::Object) => {
                let obj = Object::from_unknown(thrown).ok();
                let text = |name: &str| obj.as_ref().and_then(|o| o.get::<String>(name).ok().flatten());
                let number = |name: &str| obj.as_ref().and_then(|o| o.get::<f64>(name).ok().flatten());
                let cause = obj.as_ref().and_then(|o| super::env_data::keep_thrown(self.env, o));
                (text("code"), number("errcode"), text("message").unwrap_or_default(), cause)
            }
            _ => (None, None, thrown.coerce_to_string().and_then(|s| s.into_utf8()).and_then(|s| s.into_owned()).unwrap_or_default(), None),
        };
        // better-sqlite3 and node:sqlite say so in a flag; every binding in its message.
        if self.is_closed() || is_closed_message(&message) {
            return CpError::new("CLOSED", "The database connection is closed.", None).with_cause(cause);
        }
        let extended = errcode.map(|n| n as i32).or_else(|| code.as_deref().and_then(extended_code));
        sqlite_error(extended, &message).with_cause(cause)
    }

    /// Whether the owner closed the handle (better-sqlite3's `open`, node:sqlite's `isOpen`).
    fn is_closed(&self) -> bool {
        let Ok(handle) = self.handle() else { return true };
        ["open", "isOpen"].iter().any(|name| {
            handle.get_named_property_unchecked::<Unknown>(name).ok().is_some_and(|v| {
                v.get_type().ok() == Some(ValueType::Boolean) && bool::from_unknown(v).ok() == Some(false)
            })
        })
    }

    /// The statement for `sql`, prepared on first use and kept. (No borrow of the cache
    /// is held while a statement runs: the core may run others from a row's callback.)
    fn prepared(&self, sql: &str) -> Result<(Object<'a>, Rc<Meta>)> {
        if let Some(p) = self.host.statements.borrow().get(sql) {
            return Ok((p.stmt.get_value(self.env).map_err(napi_failure)?, p.meta.clone()));
        }
        let (text, order) = match self.host.numbered.get() {
            Some(true) => (sql.to_string(), placeholders::numbered(sql)),
            _ => placeholders::positional(sql),
        };
        let handle = self.handle()?;
        let text_js = text.as_str().into_unknown(self.env).map_err(napi_failure)?;
        let stmt = match self.call(&handle, self.host.prepare, CallArgs::from([text_js]))? {
            Ok(value) if value.get_type().ok() == Some(ValueType::Object) => Object::from_unknown(value).map_err(napi_failure)?,
            Ok(_) => return Err(CpError::new("INTERNAL", "The SQLite handle's prepare/query returned no statement.", None)),
            Err(thrown) => return Err(self.thrown(thrown)),
        };
        let has = |name: &str, kind: ValueType| property_is(&stmt, name, kind);
        let reader = has("reader", ValueType::Boolean)
            && stmt.get_named_property_unchecked::<bool>("reader").unwrap_or(false);
        let rows = if has("values", ValueType::Function) {
            RowsVia::Values
        } else if reader && has("raw", ValueType::Function) {
            let on = true.into_unknown(self.env).map_err(napi_failure)?;
            self.call(&stmt, c"raw", CallArgs::from([on]))?.map_err(|t| self.thrown(t))?;
            RowsVia::AllArrays
        } else if has("setReturnArrays", ValueType::Function) {
            let on = true.into_unknown(self.env).map_err(napi_failure)?;
            self.call(&stmt, c"setReturnArrays", CallArgs::from([on]))?.map_err(|t| self.thrown(t))?;
            RowsVia::AllArrays
        } else {
            RowsVia::AllObjects
        };
        if self.host.numbered.get().is_none() {
            self.host.numbered.set(Some(has("paramsCount", ValueType::Number)));
        }
        let meta = Rc::new(Meta { order, rows, reader });
        let prepared = Prepared { stmt: stmt.create_ref().map_err(napi_failure)?, meta: meta.clone() };
        let mut statements = self.host.statements.borrow_mut();
        if statements.len() >= STATEMENTS_KEPT {
            for (_, p) in statements.drain() {
                let _ = p.stmt.unref(self.env);
            }
        }
        statements.insert(sql.to_string(), prepared);
        Ok((stmt, meta))
    }

    fn args(&self, p: &Meta, params: &[SqlValue]) -> Result<CallArgs> {
        let mut args = CallArgs::with_capacity(p.order.len());
        for &i in &p.order {
            let value = params.get(i).copied().ok_or_else(|| {
                CpError::new("INTERNAL", format!("statement parameter ?{} has no value", i + 1), None)
            })?;
            args.push(to_js(self.env, value)?);
        }
        Ok(args)
    }

    /// Runs a statement for its rows.
    fn rows_of(&self, stmt: &Object<'a>, p: &Meta, params: &[SqlValue]) -> Result<Unknown<'a>> {
        let args = self.args(p, params)?;
        let method = if p.rows == RowsVia::Values { c"values" } else { c"all" };
        self.call(stmt, method, args)?.map_err(|t| self.thrown(t))
    }

    fn in_transaction(&self) -> Result<Option<bool>> {
        let Some(flag) = self.host.transaction_flag else { return Ok(None) };
        match self.handle()?.get_named_property_unchecked::<bool>(flag) {
            Ok(value) => Ok(Some(value)),
            // bun:sqlite's getter throws once its owner closed the handle.
            Err(err) if err.status == Status::PendingException => Err(self.thrown(take_exception(self.env))),
            Err(_) => Ok(None),
        }
    }

    /// `CLOSED` once the owner closed the handle. Checked before each call because
    /// bun:sqlite closes lazily: statements prepared before its `close()` keep reading
    /// the closed database. Its transaction flag throws then; other bindings' statements
    /// throw on their own.
    pub fn check_open(&self) -> Result<()> {
        self.flag_read.set(self.in_transaction()?);
        Ok(())
    }
}

/// A value bound to a host statement: integers as numbers while exact, else BigInt.
fn to_js<'e>(env: &'e Env, value: SqlValue) -> Result<Unknown<'e>> {
    const EXACT: i64 = 1 << 53;
    match value {
        SqlValue::Null => Null.into_unknown(env),
        SqlValue::Int(i) if (-EXACT..=EXACT).contains(&i) => (i as f64).into_unknown(env),
        SqlValue::Int(i) => BigInt::from(i).into_unknown(env),
        SqlValue::Real(f) => f.into_unknown(env),
        SqlValue::Text(s) => s.into_unknown(env),
        SqlValue::Blob(b) => BufferSlice::copy_from(env, b).map(|b| b.to_unknown()),
    }
    .map_err(napi_failure)
}

/// A value read from a host row (`values::sql_of`): a whole number as an integer, as SQLite
/// stored it (our REAL columns read back through the lenient `FromSql`).
fn from_js(value: Unknown) -> Result<SqlData> {
    sql_of(value).map_err(|not| match not {
        NotSql::BigIntTooLarge => CpError::new("STORAGE_ERROR", "A BigInt from the SQLite handle does not fit 64 bits.", None),
        NotSql::Kind(kind) => CpError::new("STORAGE_ERROR", format!("The SQLite handle returned a {kind:?} as a column value."), None),
        NotSql::Unreadable(reason) => CpError::new("INTERNAL", format!("Calling the SQLite handle: {reason}"), None),
    })
}

struct HostRow(Vec<SqlData>);

impl Row for HostRow {
    fn value(&self, column: usize) -> Result<SqlValue<'_>> {
        self.0
            .get(column)
            .map(SqlData::as_value)
            .ok_or_else(|| CpError::new("INTERNAL", format!("a row from the SQLite handle has no column {column}"), None))
    }
}

/// One row (an array, or an object in column order) as our values.
fn read_row(row: Unknown, keys: &mut Option<Vec<String>>) -> Result<HostRow> {
    if row.is_array().map_err(napi_failure)? {
        let array = Array::from_unknown(row).map_err(napi_failure)?;
        let mut out = Vec::with_capacity(array.len() as usize);
        for i in 0..array.len() {
            out.push(match array.get::<Unknown>(i).map_err(napi_failure)? {
                Some(v) => from_js(v)?,
                None => SqlData::Null,
            });
        }
        return Ok(HostRow(out));
    }
    let object = Object::from_unknown(row).map_err(napi_failure)?;
    let names = match keys {
        Some(names) => names,
        None => keys.insert(Object::keys(&object).map_err(napi_failure)?),
    };
    let mut out = Vec::with_capacity(names.len());
    for name in names.iter() {
        out.push(from_js(object.get_named_property_unchecked::<Unknown>(name).map_err(napi_failure)?)?);
    }
    Ok(HostRow(out))
}

impl Engine for HostEngine<'_> {
    fn run(&self, sql: &str, params: &[SqlValue]) -> Result<Done> {
        let (stmt, p) = self.prepared(sql)?;
        let result = if p.reader {
            // A statement that returns rows (a PRAGMA) still ran.
            self.rows_of(&stmt, &p, params)?;
            None
        } else {
            let args = self.args(&p, params)?;
            Some(self.call(&stmt, c"run", args)?.map_err(|t| self.thrown(t))?)
        };
        let from_result = result.and_then(|out| {
            if out.get_type().ok()? != ValueType::Object {
                return None;
            }
            let obj = Object::from_unknown(out).ok()?;
            let int = |name: &str| -> Option<i64> {
                match from_js(obj.get_named_property_unchecked::<Unknown>(name).ok()?).ok()? {
                    SqlData::Int(i) => Some(i),
                    _ => None,
                }
            };
            Some(Done { changes: int("changes")?.max(0) as u64, last_insert_id: int("lastInsertRowid")? })
        });
        match from_result {
            Some(done) => Ok(done),
            // A handle whose `run` says nothing: ask the connection.
            None => (self as &dyn Engine).one("SELECT changes() AS changes, last_insert_rowid() AS last_id", &[], |r| {
                Ok(Done { changes: r.get::<i64>(0)?.max(0) as u64, last_insert_id: r.get(1)? })
            }),
        }
    }

    fn query(&self, sql: &str, params: &[SqlValue], each: &mut dyn FnMut(&dyn Row) -> Result<bool>) -> Result<()> {
        let (stmt, p) = self.prepared(sql)?;
        let rows = self.rows_of(&stmt, &p, params)?;
        if !rows.is_array().map_err(napi_failure)? {
            return Err(CpError::new("INTERNAL", "The SQLite handle's all() returned no array.", None));
        }
        let rows = Array::from_unknown(rows).map_err(napi_failure)?;
        let mut keys = None;
        for i in 0..rows.len() {
            let Some(row) = rows.get::<Unknown>(i).map_err(napi_failure)? else { break };
            if !each(&read_row(row, &mut keys)?)? {
                break;
            }
        }
        Ok(())
    }

    fn script(&self, sql: &str) -> Result<()> {
        let handle = self.handle()?;
        let text = sql.into_unknown(self.env).map_err(napi_failure)?;
        self.call(&handle, c"exec", CallArgs::from([text]))?.map_err(|t| self.thrown(t))?;
        Ok(())
    }

    fn begin(&self, scope: Scope<'_>) -> Result<Opened> {
        // Nothing has run since `check_open` read the flag when this is the call's first
        // scope; later scopes read it afresh.
        let known = match self.flag_read.take() {
            Some(flag) => Some(flag),
            None => self.in_transaction()?,
        };
        if let Some(in_transaction) = known {
            let (opened, sql) = sqlite_scope::plan(scope, in_transaction);
            if let Some(sql) = sql {
                self.run(sql, &[])?;
            }
            return Ok(opened);
        }
        // A handle that does not say: begin, and learn from SQLite's refusal that the
        // owner already has a transaction open.
        let (opened, sql) = sqlite_scope::plan(scope, false);
        match self.run(sql.unwrap_or(sqlite_scope::BEGIN_READ), &[]) {
            Ok(_) => Ok(opened),
            Err(err) if err.summary.contains("within a transaction") => {
                let (opened, sql) = sqlite_scope::plan(scope, true);
                if let Some(sql) = sql {
                    self.run(sql, &[])?;
                }
                Ok(opened)
            }
            Err(err) => Err(err),
        }
    }

    fn end(&self, opened: Opened, commit: bool) -> Result<()> {
        for sql in sqlite_scope::closing(opened, commit) {
            self.run(sql, &[])?;
        }
        Ok(())
    }

    fn memo(&self) -> Option<&Memo> {
        Some(&self.host.memo)
    }
}

/// The extended result code of a binding's error code name (`SQLITE_CONSTRAINT_UNIQUE`);
/// an unknown extended name falls back to its primary code.
fn extended_code(name: &str) -> Option<i32> {
    use rusqlite::ffi::*;
    const NAMES: &[(&str, i32)] = &[
        ("SQLITE_CONSTRAINT_UNIQUE", SQLITE_CONSTRAINT_UNIQUE),
        ("SQLITE_CONSTRAINT_PRIMARYKEY", SQLITE_CONSTRAINT_PRIMARYKEY),
        ("SQLITE_CONSTRAINT_FOREIGNKEY", SQLITE_CONSTRAINT_FOREIGNKEY),
        ("SQLITE_CONSTRAINT_NOTNULL", SQLITE_CONSTRAINT_NOTNULL),
        ("SQLITE_CONSTRAINT_CHECK", SQLITE_CONSTRAINT_CHECK),
        ("SQLITE_CONSTRAINT_TRIGGER", SQLITE_CONSTRAINT_TRIGGER),
        ("SQLITE_CONSTRAINT", SQLITE_CONSTRAINT),
        ("SQLITE_BUSY", SQLITE_BUSY),
        ("SQLITE_LOCKED", SQLITE_LOCKED),
        ("SQLITE_READONLY", SQLITE_READONLY),
        ("SQLITE_IOERR", SQLITE_IOERR),
        ("SQLITE_CORRUPT", SQLITE_CORRUPT),
        ("SQLITE_FULL", SQLITE_FULL),
        ("SQLITE_CANTOPEN", SQLITE_CANTOPEN),
        ("SQLITE_NOTADB", SQLITE_NOTADB),
        ("SQLITE_MISMATCH", SQLITE_MISMATCH),
        ("SQLITE_MISUSE", SQLITE_MISUSE),
        ("SQLITE_RANGE", SQLITE_RANGE),
        ("SQLITE_TOOBIG", SQLITE_TOOBIG),
        ("SQLITE_ABORT", SQLITE_ABORT),
        ("SQLITE_INTERRUPT", SQLITE_INTERRUPT),
        ("SQLITE_PERM", SQLITE_PERM),
        ("SQLITE_ERROR", SQLITE_ERROR),
    ];
    NAMES.iter().find(|(known, _)| name == *known || name.starts_with(&format!("{known}_"))).map(|&(_, code)| code)
}
