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

use control_plane_core::error::{CpError, Result};
use control_plane_core::validate::MAX_METADATA_DEPTH;
use napi::{sys, Env};
use serde_json::{Map, Number, Value};
use std::ptr;

/// Deeper than any input needs outside metadata: past it, a value is refused.
const MAX_DEPTH: usize = 64;

/// The input of a store method: `value` read whole.
pub fn read(env: &Env, value: sys::napi_value) -> Result<Value> {
    Reader { env: env.raw(), ancestors: Vec::new() }.value(value, &mut String::new(), 0, None)
}

/// An input object made of fields read one by one (`getOrg(orgId)` and the like).
pub fn read_field(env: &Env, value: sys::napi_value, field: &str) -> Result<Value> {
    Reader { env: env.raw(), ancestors: Vec::new() }.value(value, &mut field.to_string(), 1, None)
}

struct Reader {
    env: sys::napi_env,
    /// The objects on the path to the value being read, to find cycles.
    ancestors: Vec<sys::napi_value>,
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

impl Reader {
    fn check(&self, status: sys::napi_status, what: &str) -> Result<()> {
        if status == sys::Status::napi_ok {
            return Ok(());
        }
        if status == sys::Status::napi_pending_exception {
            // A getter threw: take its exception off, and report it as ours.
            let mut thrown = ptr::null_mut();
            unsafe { sys::napi_get_and_clear_last_exception(self.env, &mut thrown) };
            return Err(napi_error(&format!("{what} threw")));
        }
        Err(napi_error(what))
    }

    /// Outside metadata a strange value is a marker; inside, an error naming its path.
    fn strange(&self, path: &str, metadata: InMetadata, what: &str) -> Result<Value> {
        match metadata {
            Some(_) => Err(not_json(path, what)),
            None => Ok(marker(what)),
        }
    }

    fn value(&mut self, value: sys::napi_value, path: &mut String, depth: usize, metadata: InMetadata) -> Result<Value> {
        let mut kind = 0;
        self.check(unsafe { sys::napi_typeof(self.env, value, &mut kind) }, "a value's type")?;
        match kind {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => Ok(Value::Null),
            sys::ValueType::napi_boolean => {
                let mut b = false;
                self.check(unsafe { sys::napi_get_value_bool(self.env, value, &mut b) }, "a boolean")?;
                Ok(Value::Bool(b))
            }
            sys::ValueType::napi_number => {
                let mut f = 0.0;
                self.check(unsafe { sys::napi_get_value_double(self.env, value, &mut f) }, "a number")?;
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
            sys::ValueType::napi_string => self.text(value, path, metadata),
            sys::ValueType::napi_bigint => self.strange(path, metadata, "a BigInt is not (use a number)"),
            sys::ValueType::napi_symbol => self.strange(path, metadata, "a symbol is not"),
            sys::ValueType::napi_function => self.strange(path, metadata, "a function is not"),
            sys::ValueType::napi_object => self.object(value, path, depth, metadata),
            _ => self.strange(path, metadata, "this kind of value is not"),
        }
    }

    fn text(&self, value: sys::napi_value, path: &str, metadata: InMetadata) -> Result<Value> {
        let mut len = 0usize;
        self.check(unsafe { sys::napi_get_value_string_utf16(self.env, value, ptr::null_mut(), 0, &mut len) }, "a string")?;
        let mut units = vec![0u16; len + 1];
        let mut written = 0usize;
        self.check(
            unsafe { sys::napi_get_value_string_utf16(self.env, value, units.as_mut_ptr(), len + 1, &mut written) },
            "a string",
        )?;
        units.truncate(written);
        match String::from_utf16(&units) {
            Ok(s) => Ok(Value::String(s)),
            Err(_) => match metadata {
                Some(_) => Err(not_json(path, "text with a lone surrogate is not")),
                None => Err(CpError::field(path, format!("{path} must be valid Unicode text (it holds a lone surrogate)."))),
            },
        }
    }

    fn object(&mut self, value: sys::napi_value, path: &mut String, depth: usize, metadata: InMetadata) -> Result<Value> {
        let mut flag = false;
        self.check(unsafe { sys::napi_is_date(self.env, value, &mut flag) }, "a Date")?;
        if flag {
            return self.strange(path, metadata, "a Date is not (use its getTime())");
        }
        self.check(unsafe { sys::napi_is_typedarray(self.env, value, &mut flag) }, "a typed array")?;
        if !flag {
            self.check(unsafe { sys::napi_is_arraybuffer(self.env, value, &mut flag) }, "an ArrayBuffer")?;
        }
        if flag {
            return self.strange(path, metadata, "binary data is not");
        }
        for &ancestor in &self.ancestors {
            let mut same = false;
            self.check(unsafe { sys::napi_strict_equals(self.env, ancestor, value, &mut same) }, "a value")?;
            if same {
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
        let mut is_array = false;
        self.check(unsafe { sys::napi_is_array(self.env, value, &mut is_array) }, "an array")?;
        self.ancestors.push(value);
        let read = if is_array { self.array(value, path, depth, metadata) } else { self.map(value, path, depth, metadata) };
        self.ancestors.pop();
        read
    }

    fn array(&mut self, value: sys::napi_value, path: &mut String, depth: usize, metadata: InMetadata) -> Result<Value> {
        let mut len = 0u32;
        self.check(unsafe { sys::napi_get_array_length(self.env, value, &mut len) }, "an array's length")?;
        let mut out = Vec::with_capacity(len as usize);
        let base = path.len();
        for i in 0..len {
            let mut item = ptr::null_mut();
            self.check(unsafe { sys::napi_get_element(self.env, value, i, &mut item) }, "an array element")?;
            path.truncate(base);
            path.push_str(&format!("[{i}]"));
            out.push(self.value(item, path, depth + 1, metadata.map(|d| d + 1))?);
        }
        path.truncate(base);
        Ok(Value::Array(out))
    }

    fn map(&mut self, value: sys::napi_value, path: &mut String, depth: usize, metadata: InMetadata) -> Result<Value> {
        let mut keys = ptr::null_mut();
        self.check(
            unsafe {
                sys::napi_get_all_property_names(
                    self.env,
                    value,
                    sys::KeyCollectionMode::own_only,
                    sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                    sys::KeyConversion::numbers_to_strings,
                    &mut keys,
                )
            },
            "an object's keys",
        )?;
        let mut len = 0u32;
        self.check(unsafe { sys::napi_get_array_length(self.env, keys, &mut len) }, "an object's keys")?;
        let mut out = Map::new();
        let base = path.len();
        for i in 0..len {
            let mut key = ptr::null_mut();
            self.check(unsafe { sys::napi_get_element(self.env, keys, i, &mut key) }, "an object's key")?;
            let Value::String(name) = self.text(key, path, None)? else { unreachable!("text reads a string") };
            let mut item = ptr::null_mut();
            self.check(unsafe { sys::napi_get_property(self.env, value, key, &mut item) }, &format!("property {name}"))?;
            let mut kind = 0;
            self.check(unsafe { sys::napi_typeof(self.env, item, &mut kind) }, "a value's type")?;
            if kind == sys::ValueType::napi_undefined {
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
            let read = self.value(item, path, depth + 1, inner)?;
            out.insert(name, read);
        }
        path.truncate(base);
        Ok(Value::Object(out))
    }
}
