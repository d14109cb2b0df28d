//! Input validation: every rule of SPEC.md section 3 in one place. An input is an object
//! of named fields: a JSON object (as Rust callers, the fuzz target and a batch's events
//! give one), or the fields the binding read off a JS object one by one (`Fields`), with no
//! JSON value around them. Each accessor of `Input` reads one field, checks it and returns
//! the normalised value or an `INVALID_INPUT` naming the field; both kinds of input read
//! alike.

use crate::error::{CpError, Result};
use serde_json::{Map, Number, Value};
use std::cell::OnceCell;

/// Written in place of `project_id` for org-wide rows, so keys are never NULL.
pub(crate) const ORG_KEY: &str = "__org__";
const ID_PATTERN: &str = "/^[A-Za-z0-9:_-]{1,128}$/";
pub(crate) const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;
/// Longest accepted string field, in characters.
const MAX_STRING_CHARS: usize = 4096;
/// Largest accepted metadata object, as JSON text, and its deepest nesting.
const MAX_METADATA_BYTES: usize = 65_536;
pub const MAX_METADATA_DEPTH: usize = 16;

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn is_id(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b':' || b == b'_' || b == b'-')
}

fn is_slug(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match b.len() {
        1 => edge(b[0]),
        2..=64 => edge(b[0]) && edge(b[b.len() - 1]) && b.iter().all(|&c| edge(c) || c == b'-'),
        _ => false,
    }
}

/// Every period a usage limit may have.
pub(crate) const PERIODS: [&str; 3] = ["daily", "weekly", "monthly"];

/// Length of a usage-limit period in milliseconds.
pub(crate) fn period_ms(period: &str) -> Option<i64> {
    match period {
        "daily" => Some(86_400_000),
        "weekly" => Some(7 * 86_400_000),
        "monthly" => Some(30 * 86_400_000),
        _ => None,
    }
}

fn check_id(field: &str, id: &str) -> Result<String> {
    let id = id.trim();
    if !is_id(id) {
        return Err(CpError::field(field, format!("{field} must match {ID_PATTERN}.")));
    }
    if id == ORG_KEY {
        return Err(CpError::field(field, format!("{field} must not be the reserved id {ORG_KEY}.")));
    }
    Ok(id.to_string())
}

/// A value no field accepts, as a JSON value: `[what]`, where `what` says what it was
/// (`NaN`, `a BigInt is not (use a number)`, ...). The field refuses it with its own
/// message, and an error that quotes the value (a scoped handle's `TENANT_MISMATCH`) shows
/// this.
pub fn marker(what: &str) -> Value {
    Value::Array(vec![Value::String(what.to_string())])
}

/// A number as a JSON value: a whole one below 2^53 in magnitude as an integer.
fn json_number(n: f64) -> Value {
    Value::Number(if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Number::from(n as i64)
    } else {
        Number::from_f64(n).expect("finite")
    })
}

/// One field of an input object as the binding reads it from JavaScript: the value itself,
/// each kind as its JSON value would have it (`Field::json`).
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `null`: absent, for every accessor but `has`.
    Null,
    Bool(bool),
    /// A finite number; see `Field::number`.
    Number(f64),
    Text(String),
    /// A value no field accepts: see `marker`.
    Strange(String),
    /// An object or an array (or anything read under `metadata`), as JSON.
    Json(Value),
    /// A list of input objects (a batch's events), each read as an input of its own.
    Inputs(Vec<Item>),
}

/// One input of a list (`Field::Inputs`): an object's fields, or the JSON value of
/// anything else, which `Input::new` refuses as it refuses any input that is not an object.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Fields(Fields),
    Json(Value),
}

impl Item {
    /// The input object this item is.
    pub fn input(&self) -> Result<Input<'_>> {
        match self {
            Item::Fields(fields) => Ok(Input::fields(fields)),
            Item::Json(value) => Input::new(value),
        }
    }

    fn json(&self) -> Value {
        match self {
            Item::Fields(fields) => fields.to_json(),
            Item::Json(value) => value.clone(),
        }
    }
}

impl Field {
    /// A JS number: NaN and ±Infinity are strange values; a whole number below 2^53 in
    /// magnitude loses the sign of a zero (`-0` reads as `0`), as its JSON value would.
    pub fn number(n: f64) -> Field {
        if !n.is_finite() {
            return Field::Strange(n.to_string());
        }
        Field::Number(if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 { n as i64 as f64 } else { n })
    }

    /// The field as a JSON value.
    pub fn json(&self) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Bool(b) => Value::Bool(*b),
            Field::Number(n) => json_number(*n),
            Field::Text(s) => Value::String(s.clone()),
            Field::Strange(what) => marker(what),
            Field::Json(v) => v.clone(),
            Field::Inputs(items) => Value::Array(items.iter().map(Item::json).collect()),
        }
    }
}

/// An input object's fields, by name, as the binding read them (in the object's key
/// order; names are distinct). The names share one buffer: an input has a handful.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Fields {
    names: String,
    fields: Vec<Named>,
}

#[derive(Debug, Clone, PartialEq)]
struct Named {
    /// Where the name is in `names`.
    name: std::ops::Range<usize>,
    field: Field,
    /// The field as a JSON value, made once if an accessor asks for one (`Input::get`).
    json: OnceCell<Value>,
}

impl Fields {
    pub fn with_capacity(capacity: usize) -> Self {
        Fields { names: String::with_capacity(16 * capacity), fields: Vec::with_capacity(capacity) }
    }

    /// Sets a field: replaces the one of that name, or adds it.
    pub fn set(&mut self, name: &str, field: Field) {
        match self.position(name) {
            Some(i) => {
                let named = &mut self.fields[i];
                named.field = field;
                named.json = OnceCell::new();
            }
            None => self.push(name, field),
        }
    }

    /// Adds a field whose name the fields do not have yet.
    pub fn push(&mut self, name: &str, field: Field) {
        let start = self.names.len();
        self.names.push_str(name);
        self.fields.push(Named { name: start..self.names.len(), field, json: OnceCell::new() });
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The name of the field at that index, in the order they were added.
    pub fn name(&self, index: usize) -> Option<&str> {
        self.fields.get(index).map(|n| &self.names[n.name.clone()])
    }

    /// The field of that name, `null` included.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.position(name).map(|i| &self.fields[i].field)
    }

    /// The field of that name, to change in place.
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        let i = self.position(name)?;
        let named = &mut self.fields[i];
        named.json = OnceCell::new();
        Some(&mut named.field)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|n| &self.names[n.name.clone()] == name)
    }

    /// The field of that name as a JSON value.
    fn json(&self, name: &str) -> Option<&Value> {
        let named = &self.fields[self.position(name)?];
        Some(match &named.field {
            Field::Json(v) => v,
            field => named.json.get_or_init(|| field.json()),
        })
    }

    /// The fields as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(self.fields.iter().map(|n| (self.names[n.name.clone()].to_string(), n.field.json())).collect())
    }
}

/// A field's value as the accessors weigh it.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Bool(bool),
    Number(f64),
    Text(&'a str),
    /// An object, an array, or a strange value.
    Other,
}

impl<'a> Scalar<'a> {
    /// A JSON value; `None` for `null`.
    fn of_json(value: &'a Value) -> Option<Scalar<'a>> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => n.as_f64().map_or(Scalar::Other, Scalar::Number),
            Value::String(s) => Scalar::Text(s),
            Value::Array(_) | Value::Object(_) => Scalar::Other,
        })
    }

    /// A field; `None` for `null`.
    fn of_field(field: &'a Field) -> Option<Scalar<'a>> {
        Some(match field {
            Field::Null => return None,
            Field::Bool(b) => Scalar::Bool(*b),
            Field::Number(n) => Scalar::Number(*n),
            Field::Text(s) => Scalar::Text(s),
            Field::Strange(_) | Field::Inputs(_) => Scalar::Other,
            Field::Json(v) => return Scalar::of_json(v),
        })
    }
}

/// A validated input object.
pub struct Input<'a>(Source<'a>);

#[derive(Clone, Copy)]
enum Source<'a> {
    Json(&'a Map<String, Value>),
    Fields(&'a Fields),
}

impl<'a> Input<'a> {
    pub fn new(value: &'a Value) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Input(Source::Json(map))),
            _ => Err(CpError::field("input", "input must be an object.")),
        }
    }

    /// The fields of an object the binding read.
    pub fn fields(fields: &'a Fields) -> Self {
        Input(Source::Fields(fields))
    }

    /// The raw value of a field; JSON `null` counts as absent, as `undefined` does.
    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        match self.0 {
            Source::Json(_) => self.lookup(field),
            Source::Fields(fields) => fields.json(field),
        }
        .filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        match self.0 {
            Source::Json(_) => self.lookup(field).is_some(),
            Source::Fields(fields) => fields.field(field).is_some(),
        }
    }

    fn lookup(&self, field: &str) -> Option<&'a Value> {
        let Source::Json(map) = self.0 else { return None };
        // Inputs have a handful of fields: comparing names is cheaper than hashing them.
        if map.len() <= 16 {
            map.iter().find(|(key, _)| key.as_str() == field).map(|(_, value)| value)
        } else {
            map.get(field)
        }
    }

    /// A list of input objects (a batch's events), each as an input (or why it is not
    /// one); `None` when the field is not a list.
    pub(crate) fn inputs(&self, field: &str) -> Option<Vec<Result<Input<'a>>>> {
        if let Source::Fields(fields) = self.0 {
            if let Some(Field::Inputs(items)) = fields.field(field) {
                return Some(items.iter().map(Item::input).collect());
            }
        }
        match self.get(field)? {
            Value::Array(items) => Some(items.iter().map(Input::new).collect()),
            _ => None,
        }
    }

    /// A field's value as the accessors weigh it; `None` when absent or `null`.
    fn scalar(&self, field: &str) -> Option<Scalar<'a>> {
        match self.0 {
            Source::Json(_) => self.lookup(field).and_then(Scalar::of_json),
            Source::Fields(fields) => fields.field(field).and_then(Scalar::of_field),
        }
    }

    /// A required, trimmed, non-empty string of at most `MAX_STRING_CHARS` characters.
    pub(crate) fn string(&self, field: &str) -> Result<String> {
        match self.scalar(field) {
            Some(Scalar::Text(s)) if !s.trim().is_empty() => {
                let s = s.trim();
                if s.chars().count() > MAX_STRING_CHARS {
                    return Err(CpError::field(field, format!("{field} must be at most {MAX_STRING_CHARS} characters.")));
                }
                Ok(s.to_string())
            }
            _ => Err(CpError::field(field, format!("{field} is required."))),
        }
    }

    /// Like `string`, with a default when the field is absent (an empty string is still an error).
    pub(crate) fn string_or(&self, field: &str, default: &str) -> Result<String> {
        if self.scalar(field).is_none() {
            return Ok(default.to_string());
        }
        self.string(field)
    }

    /// A boolean, with a default when the field is absent.
    pub(crate) fn bool_or(&self, field: &str, default: bool) -> Result<bool> {
        match self.scalar(field) {
            None => Ok(default),
            Some(Scalar::Bool(b)) => Ok(b),
            Some(_) => Err(CpError::field(field, format!("{field} must be true or false."))),
        }
    }

    /// An optional string: absent or empty means `None`; present must be non-blank.
    pub fn opt_string(&self, field: &str) -> Result<Option<String>> {
        if self.is_falsy(field) {
            return Ok(None);
        }
        self.string(field).map(Some)
    }

    /// An optional idempotency key: `opt_string`, at most 255 characters.
    pub(crate) fn idempotency_key(&self, field: &str) -> Result<Option<String>> {
        match self.opt_string(field)? {
            Some(key) if key.chars().count() > 255 => Err(CpError::field(field, format!("{field} must be at most 255 characters."))),
            key => Ok(key),
        }
    }

    /// A required id: trimmed, `^[A-Za-z0-9:_-]{1,128}$`, not the reserved `__org__`.
    pub fn id(&self, field: &str) -> Result<String> {
        match self.scalar(field) {
            Some(Scalar::Text(s)) if !s.trim().is_empty() => check_id(field, s),
            Some(Scalar::Text(_)) | None => Err(CpError::field(field, format!("{field} is required."))),
            Some(_) => Err(CpError::field(field, format!("{field} must match {ID_PATTERN}."))),
        }
    }

    /// An id that gets a random UUID when missing or blank.
    pub(crate) fn id_or_new(&self, field: &str) -> Result<String> {
        match self.scalar(field) {
            None => Ok(uuid::Uuid::new_v4().to_string()),
            Some(Scalar::Text(s)) if s.trim().is_empty() => Ok(uuid::Uuid::new_v4().to_string()),
            _ => self.id(field),
        }
    }

    /// An id that is `None` when missing, null or empty.
    pub fn opt_id(&self, field: &str) -> Result<Option<String>> {
        if self.is_falsy(field) {
            return Ok(None);
        }
        self.id(field).map(Some)
    }

    pub(crate) fn slug(&self, field: &str) -> Result<String> {
        let s = self.string(field)?;
        if !is_slug(&s) {
            return Err(CpError::field(field, format!("{field} must be a lowercase slug.")));
        }
        Ok(s)
    }

    /// A non-negative finite number of milliseconds, floored; `default` when absent.
    pub(crate) fn timestamp_or(&self, field: &str, default: i64) -> Result<i64> {
        match self.scalar(field) {
            None => Ok(default),
            Some(_) => self.non_negative(field).map(|n| n.floor().min(MAX_SAFE_INTEGER as f64) as i64),
        }
    }

    /// A timestamp that defaults to now.
    pub(crate) fn timestamp(&self, field: &str) -> Result<i64> {
        self.timestamp_or(field, now_ms())
    }

    /// An optional timestamp: absent or null is `None`.
    pub(crate) fn opt_timestamp(&self, field: &str) -> Result<Option<i64>> {
        match self.scalar(field) {
            None => Ok(None),
            Some(_) => self.timestamp_or(field, 0).map(Some),
        }
    }

    /// A required finite number >= 0 (quantities, limits).
    pub(crate) fn non_negative(&self, field: &str) -> Result<f64> {
        match self.scalar(field) {
            Some(Scalar::Number(n)) if n.is_finite() && n >= 0.0 => Ok(n),
            _ => Err(CpError::field(field, format!("{field} must be a non-negative finite number."))),
        }
    }

    /// A usage-limit period name, `monthly` when absent.
    pub(crate) fn period(&self, field: &str) -> Result<String> {
        let period = self.string_or(field, "monthly")?;
        if period_ms(&period).is_none() {
            return Err(CpError::invalid(
                format!("{field} must be one of: daily, weekly, monthly."),
                Some(serde_json::json!({ "field": field, "period": period })),
            ));
        }
        Ok(period)
    }

    /// A plain JSON object, `{}` when absent, of at most `MAX_METADATA_BYTES` of JSON and
    /// `MAX_METADATA_DEPTH` levels; returned with the JSON text to store.
    pub(crate) fn metadata(&self, field: &str) -> Result<(Value, String)> {
        match self.get(field) {
            None => Ok((Value::Object(Map::new()), "{}".to_string())),
            Some(v @ Value::Object(_)) => {
                if depth(v) > MAX_METADATA_DEPTH {
                    return Err(CpError::field(field, format!("{field} must nest at most {MAX_METADATA_DEPTH} levels.")));
                }
                let text = v.to_string();
                if text.len() > MAX_METADATA_BYTES {
                    return Err(CpError::field(field, format!("{field} must be at most {MAX_METADATA_BYTES} bytes of JSON.")));
                }
                Ok((v.clone(), text))
            }
            Some(_) => Err(CpError::field(field, format!("{field} must be a JSON object."))),
        }
    }

    /// JavaScript's falsiness for the values JSON can carry: the documented store treats
    /// `projectId: ""` like no project at all.
    fn is_falsy(&self, field: &str) -> bool {
        match self.scalar(field) {
            None => true,
            Some(Scalar::Text(s)) => s.is_empty(),
            Some(Scalar::Bool(b)) => !b,
            Some(Scalar::Number(n)) => n == 0.0,
            Some(Scalar::Other) => false,
        }
    }
}

/// How deeply objects and arrays nest in a value (a scalar is 0, `{}` is 1).
fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// A number as JavaScript's JSON.stringify writes it: integral values without a ".0", so
/// JSON text we store reads the same as the documented store's.
pub(crate) fn js_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER as f64 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null)
    }
}

/// Stored JSON text back to an object: malformed or non-object text reads as `{}`.
pub(crate) fn parse_metadata(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_follow_the_documented_pattern() {
        assert!(is_id("org_1:a-B"));
        assert!(!is_id(""));
        assert!(!is_id("has space"));
        assert!(!is_id(&"a".repeat(129)));
        assert!(is_id(&"a".repeat(128)));
        let v = json!({ "orgId": "  acme  ", "bad": "a/b", "num": 5, "reserved": "__org__" });
        let input = Input::new(&v).unwrap();
        assert_eq!(input.id("orgId").unwrap(), "acme");
        assert_eq!(input.id("bad").unwrap_err().summary, "bad must match /^[A-Za-z0-9:_-]{1,128}$/.");
        assert_eq!(input.id("num").unwrap_err().details, Some(json!({ "field": "num" })));
        assert_eq!(input.id("missing").unwrap_err().summary, "missing is required.");
        assert!(input.id("reserved").is_err());
        assert_eq!(input.id_or_new("missing").unwrap().len(), 36);
    }

    /// A JSON object's fields as the binding reads a JS object's.
    fn fields_of(value: &Value) -> Fields {
        let mut fields = Fields::default();
        for (name, v) in value.as_object().unwrap() {
            let field = match v {
                Value::Null => Field::Null,
                Value::Bool(b) => Field::Bool(*b),
                Value::Number(n) => Field::number(n.as_f64().unwrap()),
                Value::String(s) => Field::Text(s.clone()),
                Value::Array(a) if a.len() == 1 && name == "strange" => Field::Strange(a[0].as_str().unwrap().to_string()),
                other => Field::Json(other.clone()),
            };
            fields.push(name, field);
        }
        fields
    }

    #[test]
    fn fields_read_as_their_json_does() {
        let values = [
            json!(null), json!(true), json!(false), json!(0), json!(-1), json!(0.5), json!(12.9), json!(1e300), json!(9_007_199_254_740_992.0_f64),
            json!(""), json!(" "), json!("  acme  "), json!("__org__"), json!("a/b"), json!("a-b"), json!("A"), json!("x".repeat(4_097)),
            json!("daily"), json!("yearly"), json!([1]), json!({ "a": [1, { "b": null }] }), json!({ "d": { "d": 1 } }), json!([]),
        ];
        let mut compared = 0;
        for (i, v) in values.iter().enumerate() {
            // The value under its own name, and (for a strange value) as the marker it reads as.
            let mut objects = vec![json!({ "f": v, "other": i })];
            if let Value::String(s) = v {
                objects.push(json!({ "strange": [s], "f": v }));
            }
            for object in &objects {
                let fields = fields_of(object);
                let (a, b) = (Input::new(object).unwrap(), Input::fields(&fields));
                for f in ["f", "strange", "absent", "other"] {
                    assert_eq!(a.get(f), b.get(f), "{f} of {object}");
                    assert_eq!(a.has(f), b.has(f), "{f} of {object}");
                    assert_eq!(a.is_falsy(f), b.is_falsy(f), "{f} of {object}");
                    assert_eq!(a.string(f), b.string(f), "{f} of {object}");
                    assert_eq!(a.string_or(f, "d"), b.string_or(f, "d"), "{f} of {object}");
                    assert_eq!(a.opt_string(f), b.opt_string(f), "{f} of {object}");
                    assert_eq!(a.bool_or(f, true), b.bool_or(f, true), "{f} of {object}");
                    assert_eq!(a.id(f), b.id(f), "{f} of {object}");
                    assert_eq!(a.opt_id(f), b.opt_id(f), "{f} of {object}");
                    assert_eq!(a.id_or_new(f).map(|id| id.len()), b.id_or_new(f).map(|id| id.len()), "{f} of {object}");
                    assert_eq!(a.slug(f), b.slug(f), "{f} of {object}");
                    assert_eq!(a.timestamp_or(f, 7), b.timestamp_or(f, 7), "{f} of {object}");
                    assert_eq!(a.opt_timestamp(f), b.opt_timestamp(f), "{f} of {object}");
                    assert_eq!(a.non_negative(f), b.non_negative(f), "{f} of {object}");
                    assert_eq!(a.period(f), b.period(f), "{f} of {object}");
                    assert_eq!(a.metadata(f), b.metadata(f), "{f} of {object}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 100);
    }

    #[test]
    fn a_field_reads_as_its_json_value() {
        assert_eq!(Field::number(-0.0), Field::Number(0.0));
        assert!(Field::number(-0.0).json().to_string() == "0");
        assert_eq!(Field::number(0.5).json(), json!(0.5));
        assert_eq!(Field::number(f64::NAN), Field::Strange("NaN".into()));
        assert_eq!(Field::number(f64::NEG_INFINITY).json(), json!(["-inf"]));
        assert_eq!(Field::number(2f64.powi(60)).json().to_string(), "1.152921504606847e+18");
        let mut fields = Field::Text("x".into());
        assert_eq!(fields.json(), json!("x"));
        fields = Field::Json(json!({ "a": 1 }));
        assert_eq!(fields.json(), json!({ "a": 1 }));
        let mut fields = Fields::default();
        fields.push("orgId", Field::Text("a".into()));
        fields.set("orgId", Field::Text("b".into()));
        fields.set("actorId", Field::Null);
        assert_eq!(fields.to_json(), json!({ "orgId": "b", "actorId": null }));
        let input = Input::fields(&fields);
        assert!(input.has("actorId") && input.get("actorId").is_none());
    }

    #[test]
    fn a_list_of_inputs_reads_as_its_json_array_does() {
        let v = json!({ "events": [{ "orgId": "a" }, 5, null], "one": { "orgId": "a" } });
        let mut fields = Fields::default();
        let mut event = Fields::default();
        event.push("orgId", Field::Text("a".into()));
        fields.push("events", Field::Inputs(vec![Item::Fields(event), Item::Json(json!(5)), Item::Json(Value::Null)]));
        fields.push("one", Field::Json(json!({ "orgId": "a" })));
        for input in [Input::new(&v).unwrap(), Input::fields(&fields)] {
            let items = input.inputs("events").unwrap();
            assert_eq!(items.len(), 3);
            assert_eq!(items[0].as_ref().unwrap().id("orgId").unwrap(), "a");
            assert_eq!(items[1].as_ref().err().unwrap().summary, "input must be an object.");
            assert!(items[2].is_err());
            assert!(input.inputs("one").is_none() && input.inputs("absent").is_none());
            assert_eq!(input.get("events").unwrap(), &json!([{ "orgId": "a" }, 5, null]));
        }
    }

    #[test]
    fn slugs_are_lowercase_with_inner_dashes() {
        for ok in ["a", "0", "ab", "a-b", &"a".repeat(64)] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", &"a".repeat(65)] {
            assert!(!is_slug(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_and_defaults() {
        let v = json!({ "t": 12.9, "neg": -1, "s": "5", "q": 0.5, "role": "", "period": "yearly" });
        let input = Input::new(&v).unwrap();
        assert_eq!(input.timestamp("t").unwrap(), 12);
        assert!(input.timestamp("neg").is_err());
        assert!(input.timestamp("s").is_err());
        assert_eq!(input.timestamp_or("absent", 7).unwrap(), 7);
        assert_eq!(input.non_negative("q").unwrap(), 0.5);
        assert_eq!(input.string_or("absent", "member").unwrap(), "member");
        assert_eq!(input.string_or("role", "member").unwrap_err().summary, "role is required.");
        assert_eq!(input.period("period").unwrap_err().summary, "period must be one of: daily, weekly, monthly.");
        assert_eq!(input.period("absent").unwrap(), "monthly");
    }

    #[test]
    fn metadata_must_be_an_object() {
        let v = json!({ "m": { "a": [1, 2] }, "arr": [1] });
        let input = Input::new(&v).unwrap();
        assert_eq!(input.metadata("m").unwrap().1, r#"{"a":[1,2]}"#);
        assert_eq!(input.metadata("none").unwrap().1, "{}");
        assert!(input.metadata("arr").is_err());
        assert_eq!(parse_metadata("not json"), json!({}));
        assert_eq!(parse_metadata("[1]"), json!({}));
        assert_eq!(js_number(100.0).to_string(), "100");
        let mut deep = json!(1);
        for _ in 0..MAX_METADATA_DEPTH {
            deep = json!({ "d": deep });
        }
        let ok = json!({ "m": deep });
        assert!(Input::new(&ok).unwrap().metadata("m").is_ok());
        let too_deep = json!({ "m": { "x": deep } });
        assert!(Input::new(&too_deep).unwrap().metadata("m").unwrap_err().summary.contains("nest at most"));
        let big = json!({ "m": { "s": "x".repeat(MAX_METADATA_BYTES) } });
        assert!(Input::new(&big).unwrap().metadata("m").unwrap_err().summary.contains("bytes of JSON"));
        assert_eq!(js_number(0.5).to_string(), "0.5");
    }
}
