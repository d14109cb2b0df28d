//! Input validation: every rule of SPEC.md section 3 in one place. Inputs arrive as a JSON
//! object (the binding reads the caller's object into one); each accessor reads one field,
//! checks it and returns the normalised value or an `INVALID_INPUT` naming the field.

use crate::error::{CpError, Result};
use serde_json::{Map, Value};

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

/// Length of a usage-limit period in milliseconds.
/// The periods a usage limit can have.
pub(crate) const PERIODS: [&str; 3] = ["daily", "weekly", "monthly"];

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

/// A validated input object.
pub struct Input<'a>(&'a Map<String, Value>);

impl<'a> Input<'a> {
    pub fn new(value: &'a Value) -> Result<Self> {
        match value {
            Value::Object(map) => Ok(Input(map)),
            _ => Err(CpError::field("input", "input must be an object.")),
        }
    }

    /// The raw value of a field; JSON `null` counts as absent, as `undefined` does.
    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.lookup(field).filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.lookup(field).is_some()
    }

    fn lookup(&self, field: &str) -> Option<&'a Value> {
        // Inputs have a handful of fields: comparing names is cheaper than hashing them.
        if self.0.len() <= 16 {
            self.0.iter().find(|(key, _)| key.as_str() == field).map(|(_, value)| value)
        } else {
            self.0.get(field)
        }
    }

    /// A required, trimmed, non-empty string of at most `MAX_STRING_CHARS` characters.
    pub(crate) fn string(&self, field: &str) -> Result<String> {
        match self.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => {
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
        if self.get(field).is_none() {
            return Ok(default.to_string());
        }
        self.string(field)
    }

    /// A boolean, with a default when the field is absent.
    pub(crate) fn bool_or(&self, field: &str, default: bool) -> Result<bool> {
        match self.get(field) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
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

    /// A required id: trimmed, `^[A-Za-z0-9:_-]{1,128}$`, not the reserved `__org__`.
    pub fn id(&self, field: &str) -> Result<String> {
        match self.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => check_id(field, s),
            Some(Value::String(_)) | None => Err(CpError::field(field, format!("{field} is required."))),
            Some(_) => Err(CpError::field(field, format!("{field} must match {ID_PATTERN}."))),
        }
    }

    /// An id that gets a random UUID when missing or blank.
    pub(crate) fn id_or_new(&self, field: &str) -> Result<String> {
        match self.get(field) {
            None => Ok(uuid::Uuid::new_v4().to_string()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(uuid::Uuid::new_v4().to_string()),
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
        match self.get(field) {
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
        match self.get(field) {
            None => Ok(None),
            Some(_) => self.timestamp_or(field, 0).map(Some),
        }
    }

    /// A required finite number >= 0 (quantities, limits).
    pub(crate) fn non_negative(&self, field: &str) -> Result<f64> {
        match self.get(field).and_then(Value::as_f64) {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(n),
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
        match self.get(field) {
            None => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Bool(b)) => !b,
            Some(Value::Number(n)) => n.as_f64() == Some(0.0),
            Some(_) => false,
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
