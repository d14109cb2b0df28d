//! Reading a JavaScript input into the core's JSON value, in Rust, with JSON's own rules
//! made strict where `JSON.stringify` would have been silent:
//!
//! - Inside `metadata` (stored as JSON), a value JSON cannot hold is refused with its path:
//!   `NaN` or ±Infinity (`metadata.cost must be a finite number.`), a BigInt, a `Date`, a
//!   function, a symbol, a typed array, text with a lone surrogate, a cycle; nesting past
//!   the metadata limit reads as too deep, which the metadata check refuses.
//! - Anywhere else (an input's own fields, a batch's events), such a value is kept as a
//!   marker that no field accepts, so the field's own validation refuses it with its own
//!   message (`createdAtMs must be a non-negative finite number.`).
//! - `undefined` is absent, as in JSON; only own enumerable string keys are read.

use super::env_data::take_exception;
use control_plane_core::error::{CpError, Result};
use control_plane_core::validate::MAX_METADATA_DEPTH;
use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, KeyCollectionMode, KeyConversion, KeyFilter, Object, Unknown};
use napi::{sys, Env, JsString, JsStringUtf16, JsValue, Status, ValueType};
use serde_json::{Map, Number, Value};
use std::fmt::Write;

/// Deeper than any input needs outside metadata: past it, a value is refused.
const MAX_DEPTH: usize = 64;

/// The input of a store method: `value` read whole.
pub fn read(env: &Env, value: sys::napi_value) -> Result<Value> {
    Reader { env, ancestors: Vec::new() }.read(unknown(env, value), &mut String::new(), 0)
}

/// An input object made of fields read one by one (`getOrg(orgId)` and the like).
pub fn read_field(env: &Env, value: sys::napi_value, field: &str) -> Result<Value> {
    Reader { env, ancestors: Vec::new() }.read(unknown(env, value), &mut field.to_string(), 1)
}

/// The value the callers hand over as the `raw()` of their own `Unknown`.
fn unknown(env: &Env, value: sys::napi_value) -> Unknown<'_> {
    // SAFETY: every caller passes the `raw()` of a value it holds as an `Unknown` of this
    // same `env`, an argument of the call being served, so the handle is live for the
    // whole read. (Gone once the callers pass that `Unknown` itself.)
    unsafe { Unknown::from_raw_unchecked(env.raw(), value) }
}

struct Reader<'e> {
    env: &'e Env,
    /// The objects on the path to the value being read, to find cycles.
    ancestors: Vec<Object<'e>>,
}

/// Whether a value is read as metadata, and how deep inside it.
type InMetadata = Option<usize>;

fn not_json(path: &str, what: &str) -> CpError {
    CpError::field(path, format!("{path} must be JSON-serialisable: {what}."))
}

/// What no field's validation accepts: the field refuses it with its own message.
fn marker(what: &str) -> Value {
    Value::Array(vec![Value::String(what.to_string())])
}

fn napi_error(what: &str) -> CpError {
    CpError::field("input", format!("input could not be read: {what}."))
}

impl<'e> Reader<'e> {
    /// A failed read as our error: a getter (or a proxy's trap) that threw has its
    /// exception taken off, and is reported as ours.
    fn failed(&self, err: napi::Error, what: &str) -> CpError {
        if err.status == Status::PendingException {
            take_exception(self.env);
            return napi_error(&format!("{what} threw"));
        }
        napi_error(what)
    }

    fn check<T>(&self, read: napi::Result<T>, what: &str) -> Result<T> {
        read.map_err(|err| self.failed(err, what))
    }

    /// Outside metadata a strange value is a marker; inside, an error naming its path.
    fn strange(&self, path: &str, metadata: InMetadata, what: &str) -> Result<Value> {
        match metadata {
            Some(_) => Err(not_json(path, what)),
            None => Ok(marker(what)),
        }
    }

    fn read(&mut self, value: Unknown<'e>, path: &mut String, depth: usize) -> Result<Value> {
        let kind = self.check(value.get_type(), "a value's type")?;
        self.value(value, kind, path, depth, None)
    }

    /// A value of that kind (`get_type`), read by its type's own `FromNapiValue`.
    fn value(&mut self, value: Unknown<'e>, kind: ValueType, path: &mut String, depth: usize, metadata: InMetadata) -> Result<Value> {
        match kind {
            ValueType::Undefined | ValueType::Null => Ok(Value::Null),
            ValueType::Boolean => Ok(Value::Bool(self.check(bool::from_unknown(value), "a boolean")?)),
            ValueType::Number => {
                let f = self.check(f64::from_unknown(value), "a number")?;
                if !f.is_finite() {
                    return match metadata {
                        Some(_) => Err(CpError::field(path, format!("{path} must be a finite number."))),
                        None => Ok(marker(&f.to_string())),
                    };
                }
                Ok(Value::Number(if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
                    Number::from(f as i64)
                } else {
                    Number::from_f64(f).expect("finite")
                }))
            }
            ValueType::String => {
                let text = self.check(JsString::from_unknown(value), "a string")?;
                let units = self.check(text.into_utf16(), "a string")?;
                self.text(&units, path, metadata).map(Value::String)
            }
            ValueType::BigInt => self.strange(path, metadata, "a BigInt is not (use a number)"),
            ValueType::Symbol => self.strange(path, metadata, "a symbol is not"),
            ValueType::Function => self.strange(path, metadata, "a function is not"),
            ValueType::Object => {
                let object = self.check(Object::from_unknown(value), "an object")?;
                self.object(object, path, depth, metadata)
            }
            _ => self.strange(path, metadata, "this kind of value is not"),
        }
    }

    /// A string's UTF-16 code units (with napi's terminating NUL) as Rust text: a lone
    /// surrogate is refused.
    fn text(&self, units: &JsStringUtf16, path: &str, metadata: InMetadata) -> Result<String> {
        units.as_str().map_err(|_| match metadata {
            Some(_) => not_json(path, "text with a lone surrogate is not"),
            None => CpError::field(path, format!("{path} must be valid Unicode text (it holds a lone surrogate).")),
        })
    }

    fn object(&mut self, object: Object<'e>, path: &mut String, depth: usize, metadata: InMetadata) -> Result<Value> {
        // An array is none of a Date, a typed array or an ArrayBuffer: those checks are
        // for the other objects only.
        let is_array = self.check(object.is_array(), "an array")?;
        if !is_array {
            if self.check(object.is_date(), "a Date")? {
                return self.strange(path, metadata, "a Date is not (use its getTime())");
            }
            if self.check(object.is_typedarray(), "a typed array")? || self.check(object.is_arraybuffer(), "an ArrayBuffer")? {
                return self.strange(path, metadata, "binary data is not");
            }
        }
        for &ancestor in &self.ancestors {
            if self.check(self.env.strict_equals(ancestor, object), "a value")? {
                return Err(not_json(path, "it refers back to an object that contains it"));
            }
        }
        // Past the metadata limit, an empty object stands for the rest: the metadata check
        // then refuses the whole with its own message.
        if metadata.is_some_and(|d| d > MAX_METADATA_DEPTH) {
            return Ok(Value::Object(Map::new()));
        }
        if depth > MAX_DEPTH {
            return Err(CpError::field(path, format!("{path} nests more than {MAX_DEPTH} levels.")));
        }
        self.ancestors.push(object);
        let read = if is_array { self.array(object, path, depth, metadata) } else { self.map(object, path, depth, metadata) };
        self.ancestors.pop();
        read
    }

    fn array(&mut self, array: Object<'e>, path: &mut String, depth: usize, metadata: InMetadata) -> Result<Value> {
        let len = self.check(array.get_array_length_unchecked(), "an array's length")?;
        let mut out = Vec::with_capacity(len as usize);
        let base = path.len();
        for i in 0..len {
            let item: Unknown<'e> = self.check(array.get_element(i), "an array element")?;
            let kind = self.check(item.get_type(), "a value's type")?;
            path.truncate(base);
            let _ = write!(path, "[{i}]");
            out.push(self.value(item, kind, path, depth + 1, metadata.map(|d| d + 1))?);
        }
        path.truncate(base);
        Ok(Value::Array(out))
    }

    fn map(&mut self, object: Object<'e>, path: &mut String, depth: usize, metadata: InMetadata) -> Result<Value> {
        // Own enumerable keys, integers as strings. napi-rs takes one key filter: the
        // symbols among them are skipped below.
        let keys = self.check(
            object.get_all_property_names(KeyCollectionMode::OwnOnly, KeyFilter::Enumerable, KeyConversion::NumbersToStrings),
            "an object's keys",
        )?;
        let len = self.check(keys.get_array_length_unchecked(), "an object's keys")?;
        let mut out = Map::new();
        let base = path.len();
        for i in 0..len {
            let key: JsString<'e> = self.check(keys.get_element(i), "an object's key")?;
            let units = match key.into_utf16() {
                Ok(units) => units,
                // A symbol: not a key JSON has.
                Err(err) if err.status == Status::StringExpected => continue,
                Err(err) => return Err(self.failed(err, "a string")),
            };
            let name = self.text(&units, path, None)?;
            let item: Unknown<'e> = match object.get_property_unchecked(key) {
                Ok(item) => item,
                Err(err) => return Err(self.failed(err, &format!("property {name}"))),
            };
            let kind = self.check(item.get_type(), "a value's type")?;
            if kind == ValueType::Undefined {
                continue; // as JSON: an undefined property is absent
            }
            path.truncate(base);
            if base > 0 {
                path.push('.');
            }
            path.push_str(&name);
            // An input's (or a batch event's) `metadata` is stored as JSON: from here on,
            // what JSON cannot hold is refused with its path.
            let inner = match metadata {
                Some(d) => Some(d + 1),
                None if name == "metadata" => Some(1),
                None => None,
            };
            let read = self.value(item, kind, path, depth + 1, inner)?;
            out.insert(name, read);
        }
        path.truncate(base);
        Ok(Value::Object(out))
    }
}
