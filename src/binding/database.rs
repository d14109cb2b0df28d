//! `Database` and `Statement`: a small bun:sqlite-shaped handle on a connection of ours,
//! for callers and tests that read raw rows; a store built on it shares the connection.

use super::connection::{closed, Own};
use super::env_data::to_js;
use control_plane_core::error::{CpError, Result as CoreResult};
use control_plane_core::engine::sqlite::raw::{self, Params, Rows};
use super::values::{sql_of, NotSql};
use control_plane_core::engine::SqlData;
use napi::bindgen_prelude::{
    ClassInstance, FromNapiValue, JsObjectValue, Null, Object, ObjectFinalize, ObjectRef, ToNapiValue, Uint8Array, Unknown,
};
use napi::{sys, Env, JsValue, Result, ValueType};
use napi_derive::napi;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

#[napi(custom_finalize)]
pub struct Database {
    pub(crate) own: Arc<Own>,
    filename: String,
    /// `query`'s statements by SQL, so the same SQL gives the same statement.
    queries: RefCell<HashMap<String, ObjectRef>>,
}

impl ObjectFinalize for Database {
    fn finalize(self, env: Env) -> Result<()> {
        for (_, statement) in self.queries.into_inner() {
            let _ = statement.unref(&env);
        }
        Ok(())
    }
}

#[napi]
impl Database {
    /// `new Database(filename = ":memory:")`: a file path (created owner-only), or
    /// `":memory:"`.
    #[napi(constructor, ts_args_type = "filename?: string")]
    pub fn new(env: Env, filename: Option<Unknown>) -> Result<Self> {
        let filename = match filename {
            None => ":memory:".to_string(),
            Some(value) if value.get_type()? == ValueType::Undefined => ":memory:".to_string(),
            Some(value) if value.get_type()? == ValueType::String => String::from_unknown(value)?,
            Some(_) => return Err(to_js(&env, CpError::field("filename", "filename must be a string."))),
        };
        let own = super::open_path::connection_for_path(&env, &filename).map_err(|e| to_js(&env, e))?;
        Ok(Database { own, filename, queries: RefCell::default() })
    }

    #[napi(getter)]
    pub fn filename(&self) -> String {
        self.filename.clone()
    }

    #[napi(getter)]
    pub fn open(&self) -> bool {
        self.own.is_open()
    }

    #[napi]
    pub fn exec(&self, env: Env, sql: String) -> Result<()> {
        self.own.with(|engine| Ok(engine.conn().execute_batch(&sql)?)).map_err(|e| to_js(&env, e))
    }

    /// Like bun:sqlite, the same statement for the same SQL.
    #[napi(ts_return_type = "Statement")]
    pub fn query<'e>(&self, env: &'e Env, sql: String) -> Result<Object<'e>> {
        if let Some(statement) = self.queries.borrow().get(&sql) {
            return statement.get_value(env);
        }
        let statement = self.prepare(env, sql.clone())?;
        self.queries.borrow_mut().insert(sql, statement.create_ref()?);
        Ok(statement)
    }

    #[napi(ts_return_type = "Statement")]
    pub fn prepare<'e>(&self, env: &'e Env, sql: String) -> Result<Object<'e>> {
        let statement = Statement { own: self.own.clone(), sql };
        Object::from_unknown(statement.into_unknown(env)?)
    }

    /// Closes the connection; later calls fail with `CLOSED`. Closing twice is harmless.
    #[napi]
    pub fn close(&self, env: Env) -> Result<()> {
        self.own.close().map_err(|e| to_js(&env, e))
    }
}

/// A statement of a `Database`. Its `run`, `get` and `all` take the parameters as
/// bun:sqlite does (positional values, one array, or one object of named values); napi-rs
/// methods cannot take a variable number of arguments, so they are set on the class's
/// prototype when the module loads (`install_statement_methods`).
#[napi]
pub struct Statement {
    own: Arc<Own>,
    sql: String,
}

#[napi]
impl Statement {
    #[napi(getter)]
    pub fn sql(&self) -> String {
        self.sql.clone()
    }
}

/// A statement parameter (`values::sql_of`).
fn param(value: Unknown) -> CoreResult<SqlData> {
    sql_of(value).map_err(|not| match not {
        NotSql::BigIntTooLarge => CpError::field("params", "A BigInt parameter does not fit a 64-bit integer."),
        _ => CpError::field("params", "SQL parameters must be null, boolean, number, bigint, string or Uint8Array."),
    })
}

/// The parameters of a call: one object of named values, one array, or positional values.
fn params(args: &[Unknown]) -> CoreResult<Params> {
    if let [only] = args {
        if only.get_type().ok() == Some(ValueType::Object) && !only.is_typedarray().unwrap_or(false) {
            let object = Object::from_unknown(*only).map_err(|e| CpError::field("params", e.reason))?;
            if only.is_array().unwrap_or(false) {
                let len = object.get_array_length().map_err(|e| CpError::field("params", e.reason))?;
                let values = (0..len)
                    .map(|i| object.get_element::<Unknown>(i).map_err(|e| CpError::field("params", e.reason)).and_then(|v| param(v)))
                    .collect::<CoreResult<Vec<_>>>()?;
                return Ok(Params::Positional(values));
            }
            let keys = Object::keys(&object).map_err(|e| CpError::field("params", e.reason))?;
            let mut named = Vec::with_capacity(keys.len());
            for key in keys {
                let value = object.get_named_property_unchecked::<Unknown>(&key).map_err(|e| CpError::field("params", e.reason))?;
                named.push((key, param(value)?));
            }
            return Ok(Params::Named(named));
        }
    }
    Ok(Params::Positional(args.iter().map(|&v| param(v)).collect::<CoreResult<Vec<_>>>()?))
}

fn value_to_js(env: &Env, value: SqlData) -> Result<Unknown<'_>> {
    match value {
        SqlData::Null => Null.into_unknown(env),
        SqlData::Int(i) => (i as f64).into_unknown(env),
        SqlData::Real(f) => f.into_unknown(env),
        SqlData::Text(s) => s.into_unknown(env),
        SqlData::Blob(b) => Uint8Array::new(b).into_unknown(env),
    }
}

fn row_to_js<'e>(env: &'e Env, columns: &[String], row: Vec<SqlData>) -> Result<Unknown<'e>> {
    let mut object = Object::new(env)?;
    for (name, value) in columns.iter().zip(row) {
        object.set(name, value_to_js(env, value)?)?;
    }
    Ok(object.to_unknown())
}

/// Which of the three a prototype function is.
#[derive(Clone, Copy)]
enum Verb {
    Run,
    Get,
    All,
}

fn statement_call<'e>(env: &'e Env, this: &Statement, args: &[Unknown], verb: Verb) -> CoreResult<Unknown<'e>> {
    let params = params(args)?;
    let napi_err = |e: napi::Error| CpError::new("INTERNAL", e.reason, None);
    this.own.with(|engine| match verb {
        Verb::Run => {
            let done = raw::run(engine.conn(), &this.sql, params)?;
            let mut object = Object::new(env).map_err(napi_err)?;
            object.set_c_named_property(c"changes", done.changes as f64).map_err(napi_err)?;
            object.set_c_named_property(c"lastInsertRowid", done.last_insert_id as f64).map_err(napi_err)?;
            Ok(object.to_unknown())
        }
        Verb::Get | Verb::All => {
            let limit = if matches!(verb, Verb::Get) { 1 } else { usize::MAX };
            let Rows { columns, rows } = raw::rows(engine.conn(), &this.sql, params, limit)?;
            if matches!(verb, Verb::Get) {
                return match rows.into_iter().next() {
                    Some(row) => row_to_js(env, &columns, row).map_err(napi_err),
                    None => Null.into_unknown(env).map_err(napi_err),
                };
            }
            let mut array = env.create_array(rows.len() as u32).map_err(napi_err)?;
            for (i, row) in rows.into_iter().enumerate() {
                array.set(i as u32, row_to_js(env, &columns, row).map_err(napi_err)?).map_err(napi_err)?;
            }
            Ok(array.to_unknown())
        }
    })
}

/// Sets `run`, `get` and `all` on `Statement.prototype`: functions that take any number of
/// parameters, which a napi-rs method cannot.
pub fn install_statement_methods(env: &Env, exports: &Object) -> Result<()> {
    let class: Object = exports.get_named_property_unchecked("Statement")?;
    let mut prototype: Object = class.get_named_property_unchecked("prototype")?;
    for (name, verb) in [("run", Verb::Run), ("get", Verb::Get), ("all", Verb::All)] {
        // The closure hands its result back as the raw value napi-rs returns to JS: an
        // `Unknown` cannot outlive the call's `Env` borrow in the closure's return type.
        let function = env.create_function_from_closure::<(), sys::napi_value, _>(name, move |ctx| {
            let this = ctx.this::<ClassInstance<Statement>>()?;
            let args = ctx.arguments::<Unknown>()?;
            let env: &Env = ctx.env;
            match statement_call(env, &this, &args, verb) {
                Ok(value) => Ok(value.raw()),
                Err(err) => Err(to_js(env, if this.own.is_open() { err } else { closed() })),
            }
        })?;
        prototype.set_named_property(name, function)?;
    }
    Ok(())
}
