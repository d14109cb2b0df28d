//! Reading a JavaScript input, in Rust, with JSON's own rules made strict where
//! `JSON.stringify` would have been silent. A method's input object is read in one pass
//! into its fields (`read_input`: the core's `Fields`, which the request is then read
//! from); what a field holds inside (an object, an array, `metadata`), and any input that
//! is not a plain object, is read into a JSON value:
//!
//! - Inside `metadata` (stored as JSON), a value JSON cannot hold is refused with its path:
//!   `NaN` or ±Infinity (`metadata.cost must be a finite number.`), a BigInt, a `Date`, a
//!   function, a symbol, a typed array, text with a lone surrogate, a cycle; nesting past
//!   the metadata limit reads as too deep, which the metadata check refuses.
//! - Anywhere else (an input's own fields, a batch's events), such a value is kept as a
//!   marker that no field accepts, so the field's own validation refuses it with its own
//!   message (`createdAtMs must be a non-negative finite number.`).
//! - `undefined` is absent, as in JSON; only own enumerable string keys are read.
//!
//! Every own enumerable key is read, in the object's order, each value whole before the
//! next key's getter runs, whether or not the method has a field of that name: what a
//! caller's getters and proxy traps see, and which error comes first, is the same as
//! reading the object whole.

use super::env_data::take_exception;
use control_plane_core::error::{CpError, Result};
use control_plane_core::validate::{self, Field, Fields, Input, Item, MAX_METADATA_DEPTH};
use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, KeyCollectionMode, KeyConversion, KeyFilter, Object, Unknown};
use napi::{sys, Env, JsValue, Status, ValueType};
use serde_json::{Map, Number, Value};
use std::fmt::Write;
use std::ptr;

/// What a value JSON cannot hold was, in its marker or its error.
const BIGINT: &str = "a BigInt is not (use a number)";
const SYMBOL: &str = "a symbol is not";
const FUNCTION: &str = "a function is not";
const OTHER_KIND: &str = "this kind of value is not";

/// Deeper than any input needs outside metadata: past it, a value is refused.
const MAX_DEPTH: usize = 64;

/// A method's input as read: an object's fields, or the JSON value of anything else (which
/// `Input::new` refuses unless it is an object).
pub enum Read {
    Fields(Fields),
    Json(Value),
}

impl Read {
    /// The input object the request is read from.
    pub fn input(&self) -> Result<Input<'_>> {
        match self {
            Read::Fields(fields) => Ok(Input::fields(fields)),
            Read::Json(value) => Input::new(value),
        }
    }
}

impl From<Value> for Read {
    fn from(value: Value) -> Read {
        Read::Json(value)
    }
}

/// The input of a store method, in one pass: a plain object into its fields; anything
/// else (an array, a Date, a string...) read whole, as before, into its JSON value.
pub fn read_input(env: &Env, value: Unknown) -> Result<Read> {
    let mut reader = Reader { env, ancestors: Vec::new() };
    match reader.plain_object(value)? {
        Some(object) => reader.fields(object, "", 0).map(Read::Fields),
        None => reader.read(value, &mut String::new(), 0).map(Read::Json),
    }
}

/// The input of a request path's method from the fields its realm gathered (`gathered`):
/// `values[i]` the input's own data property `names[i]`, or `undefined`. The input is
/// still checked as `read_input` checks it: one that is not a plain object (a Date, a
/// typed array) is read whole instead.
pub fn read_gathered(env: &Env, input: Unknown, names: &[&str], values: &[Unknown]) -> Result<Read> {
    let mut reader = Reader { env, ancestors: Vec::new() };
    match reader.plain_object(input)? {
        Some(object) => reader.gathered(object, names, values).map(Read::Fields),
        None => reader.read(input, &mut String::new(), 0).map(Read::Json),
    }
}

/// `recordUsageBatch`'s events (an array: the caller checked), each as `read_input` reads
/// an input, under its path (`events[i]`): a plain object into its fields, anything else
/// into its JSON value.
pub fn read_events(env: &Env, events: Unknown) -> Result<Vec<Item>> {
    let mut reader = Reader { env, ancestors: Vec::new() };
    let array = reader.check(Object::from_unknown(events), "an object")?;
    reader.ancestors.push(array);
    let len = reader.check(array.get_array_length_unchecked(), "an array's length")?;
    let mut items = Vec::with_capacity(len as usize);
    let mut path = String::new();
    for i in 0..len {
        let item: Unknown = reader.check(array.get_element(i), "an array element")?;
        path.clear();
        let _ = write!(path, "events[{i}]");
        items.push(match reader.plain_object(item)? {
            Some(object) => Item::Fields(reader.fields(object, &path, 2)?),
            None => {
                let kind = reader.check(item.get_type(), "a value's type")?;
                Item::Json(reader.value(item, kind, &mut path, 2, None)?)
            }
        });
    }
    Ok(items)
}

/// A value read whole (the options of `recordUsageBatch`, a `forOrg` context).
pub fn read(env: &Env, value: Unknown) -> Result<Value> {
    Reader { env, ancestors: Vec::new() }.read(value, &mut String::new(), 0)
}

/// A value that stands for one field of an input object (`getOrg(orgId)` and the like),
/// read whole.
pub fn read_field(env: &Env, value: Unknown, field: &str) -> Result<Value> {
    Reader { env, ancestors: Vec::new() }.read(value, &mut field.to_string(), 1)
}

/// The code units of most strings an input holds (keys, ids, names) fit here.
const INLINE_UNITS: usize = 128;

/// A JS string as Rust text, read as its UTF-16 code units (a copy of V8's own, where
/// UTF-8 would be an encoding pass): `None` when it holds a lone surrogate. The status of
/// a value that is not a string (`StringExpected` for a symbol) is the error.
fn text(env: &Env, value: Unknown) -> std::result::Result<Option<String>, Status> {
    let mut text = String::new();
    Ok(text_into(env, value, &mut text)?.then_some(text))
}

/// `text`, appended to `out`; `false` when the string holds a lone surrogate.
fn text_into(env: &Env, value: Unknown, out: &mut String) -> std::result::Result<bool, Status> {
    let mut inline = [0u16; INLINE_UNITS];
    let written = utf16(env, value, &mut inline)?;
    // Filling the buffer (one unit is napi's terminating NUL) may have cut the string.
    if written < INLINE_UNITS - 1 {
        let units = &inline[..written];
        if units.iter().all(|&unit| unit < 0x80) {
            let mut ascii = [0u8; INLINE_UNITS];
            for (byte, &unit) in ascii.iter_mut().zip(units) {
                *byte = unit as u8;
            }
            out.push_str(std::str::from_utf8(&ascii[..written]).expect("ASCII"));
            return Ok(true);
        }
        return Ok(decode_into(units, out));
    }
    let len = utf16(env, value, &mut [])?;
    let mut units = vec![0u16; len + 1];
    let written = utf16(env, value, &mut units)?;
    Ok(decode_into(&units[..written], out))
}

fn decode_into(units: &[u16], out: &mut String) -> bool {
    match String::from_utf16(units) {
        Ok(text) if out.is_empty() => *out = text,
        Ok(text) => out.push_str(&text),
        Err(_) => return false,
    }
    true
}

/// `napi_get_value_string_utf16` into `buf` (at most `buf.len()` units, the last a NUL),
/// returning the units written; with an empty `buf`, the string's length in units.
/// napi-rs's own reads (`JsString::into_utf16`) always ask for the length first and copy
/// into a fresh heap buffer: two calls and an allocation for every key and value.
fn utf16(env: &Env, value: Unknown, buf: &mut [u16]) -> std::result::Result<usize, Status> {
    let mut written = 0usize;
    let out = if buf.is_empty() { ptr::null_mut() } else { buf.as_mut_ptr() };
    // SAFETY: `value` is a handle of `env` held by the caller for this call (an argument or
    // a value read from one), `out` is null (a length query, which napi allows) or points
    // to `buf.len()` writable units, and napi writes at most `buf.len()` units (the string's
    // first `buf.len() - 1` and a NUL) there; `written` is a local out-pointer.
    let status = unsafe { sys::napi_get_value_string_utf16(env.raw(), value.raw(), out, buf.len(), &mut written) };
    match Status::from(status) {
        Status::Ok => Ok(written),
        status => Err(status),
    }
}

struct Reader<'r, 'e> {
    env: &'r Env,
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
    validate::marker(what)
}

fn napi_error(what: &str) -> CpError {
    CpError::field("input", format!("input could not be read: {what}."))
}

impl<'e> Reader<'_, 'e> {
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

    /// `value` as an object whose fields are an input's: not an array, a Date, a typed
    /// array or an ArrayBuffer (which `object` reads otherwise).
    fn plain_object(&self, value: Unknown<'e>) -> Result<Option<Object<'e>>> {
        if self.check(value.get_type(), "a value's type")? != ValueType::Object {
            return Ok(None);
        }
        let object = self.check(Object::from_unknown(value), "an object")?;
        let other = self.check(object.is_array(), "an array")?
            || self.check(object.is_date(), "a Date")?
            || self.check(object.is_typedarray(), "a typed array")?
            || self.check(object.is_arraybuffer(), "an ArrayBuffer")?;
        Ok((!other).then_some(object))
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
            ValueType::String => self.string(value, path, metadata).map(Value::String),
            ValueType::BigInt => self.strange(path, metadata, BIGINT),
            ValueType::Symbol => self.strange(path, metadata, SYMBOL),
            ValueType::Function => self.strange(path, metadata, FUNCTION),
            ValueType::Object => {
                let object = self.check(Object::from_unknown(value), "an object")?;
                self.object(object, path, depth, metadata)
            }
            _ => self.strange(path, metadata, OTHER_KIND),
        }
    }

    /// A string as Rust text: a lone surrogate is refused.
    fn string(&self, value: Unknown<'e>, path: &str, metadata: InMetadata) -> Result<String> {
        self.decoded(text(self.env, value), path, metadata)
    }

    fn decoded(&self, text: std::result::Result<Option<String>, Status>, path: &str, metadata: InMetadata) -> Result<String> {
        match text {
            Ok(Some(text)) => Ok(text),
            Ok(None) => Err(match metadata {
                Some(_) => not_json(path, "text with a lone surrogate is not"),
                None => CpError::field(path, format!("{path} must be valid Unicode text (it holds a lone surrogate).")),
            }),
            Err(status) => Err(self.failed(napi::Error::from_status(status), "a string")),
        }
    }

    /// An object's key as Rust text (`path` is the object's); `None` for a symbol, which
    /// JSON has no key for.
    fn key(&self, key: Unknown<'e>, path: &str) -> Result<Option<String>> {
        match text(self.env, key) {
            Err(Status::StringExpected) => Ok(None),
            read => self.decoded(read, path, None).map(Some),
        }
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

    /// An input object's own enumerable keys into its fields: `map`'s reading at the top
    /// of an input (`base` empty, `depth` 0) or of a batch's event (`events[i]`, 2), each
    /// scalar held as itself rather than as a JSON value.
    fn fields(&mut self, object: Object<'e>, base: &str, depth: usize) -> Result<Fields> {
        let keys = self.check(
            object.get_all_property_names(KeyCollectionMode::OwnOnly, KeyFilter::Enumerable, KeyConversion::NumbersToStrings),
            "an object's keys",
        )?;
        let len = self.check(keys.get_array_length_unchecked(), "an object's keys")?;
        let mut out = Fields::with_capacity(len as usize);
        // The object holds what is read inside it: a value that refers back to it is a cycle.
        self.ancestors.push(object);
        // As `map` does, a key with a lone surrogate is named by the path before it: the
        // last key whose value was read (or the object's own path).
        let mut path = String::from(base);
        let mut at = String::new();
        let mut name = String::new();
        for i in 0..len {
            let key: Unknown<'e> = self.check(keys.get_element(i), "an object's key")?;
            name.clear();
            match text_into(self.env, key, &mut name) {
                Ok(true) => {}
                Err(Status::StringExpected) => continue, // a symbol: not a key JSON has
                read => {
                    self.decoded(read.map(|_| None), &path, None)?;
                }
            }
            let item: Unknown<'e> = match object.get_property_unchecked(key) {
                Ok(item) => item,
                Err(err) => return Err(self.failed(err, &format!("property {name}"))),
            };
            at.clear();
            if !base.is_empty() {
                at.push_str(base);
                at.push('.');
            }
            at.push_str(&name);
            let Some(field) = self.field(&name, &at, item, depth + 1)? else { continue };
            out.push(&name, field);
            std::mem::swap(&mut path, &mut at);
        }
        self.ancestors.pop();
        Ok(out)
    }

    /// The value of an input's field `name` (at `path`, `depth`) as the field (`None` for
    /// `undefined`, which is absent, as in JSON); the input object is among the ancestors.
    fn field(&mut self, name: &str, path: &str, item: Unknown<'e>, depth: usize) -> Result<Option<Field>> {
        let kind = self.check(item.get_type(), "a value's type")?;
        Ok(Some(match kind {
            ValueType::Undefined => return Ok(None),
            ValueType::Null => Field::Null,
            // `metadata` is stored as JSON: read as `map` reads it, strictly.
            _ if name == "metadata" => Field::Json(self.value(item, kind, &mut path.to_string(), depth, Some(1))?),
            ValueType::Boolean => Field::Bool(self.check(bool::from_unknown(item), "a boolean")?),
            ValueType::Number => Field::number(self.check(f64::from_unknown(item), "a number")?),
            ValueType::String => Field::Text(self.string(item, path, None)?),
            ValueType::BigInt => Field::Strange(BIGINT.into()),
            ValueType::Symbol => Field::Strange(SYMBOL.into()),
            ValueType::Function => Field::Strange(FUNCTION.into()),
            ValueType::Object => Field::Json(self.value(item, kind, &mut path.to_string(), depth, None)?),
            _ => Field::Strange(OTHER_KIND.into()),
        }))
    }

    /// Fields the caller's realm gathered (`gathered`): `values[i]` is the input's own data
    /// property `names[i]`, or `undefined` when it has none.
    fn gathered(&mut self, object: Object<'e>, names: &[&str], values: &[Unknown<'e>]) -> Result<Fields> {
        let (values, metadata) = values.split_at(names.len().min(values.len()));
        let mut out = Fields::with_capacity(names.len());
        self.ancestors.push(object);
        for (&name, &item) in names.iter().zip(values) {
            let field = if name == "metadata" && !metadata.is_empty() { self.flat_metadata(metadata).map(Some)? } else { self.field(name, name, item, 1)? };
            if let Some(field) = field {
                out.push(name, field);
            }
        }
        self.ancestors.pop();
        Ok(out)
    }

    /// `metadata` as lib/readers.js gathered it when it is a plain object of scalars: its keys
    /// and values in order, `[key, value, ...]`, each value read as `map` reads one.
    fn flat_metadata(&mut self, pairs: &[Unknown<'e>]) -> Result<Field> {
        let mut map = Map::new();
        let mut path = String::from("metadata");
        for pair in pairs.chunks(2) {
            let [key, item] = *pair else { break };
            path.truncate("metadata".len());
            let name = match text(self.env, key) {
                Ok(Some(name)) => name,
                read => return self.decoded(read, &path, None).map(|_| Field::Null),
            };
            let kind = self.check(item.get_type(), "a value's type")?;
            if kind == ValueType::Undefined {
                continue;
            }
            path.push('.');
            path.push_str(&name);
            let value = self.value(item, kind, &mut path, 2, Some(2))?;
            map.insert(name, value);
        }
        Ok(Field::Json(Value::Object(map)))
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
            let key: Unknown<'e> = self.check(keys.get_element(i), "an object's key")?;
            // `path` still names the last key read (or the object, for the first): a lone
            // surrogate in this key is reported under it.
            let Some(name) = self.key(key, path)? else { continue };
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
