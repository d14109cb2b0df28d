//! Cursor pagination for listings: keyset pages in a stable order, so rows added while a
//! caller pages through never make it skip or repeat a row. A cursor is the last row's
//! key, as opaque text.

use crate::error::{CpError, Result};
use crate::request::FromInput;
use crate::validate::Input;
use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 1000;

/// A page of a listing; pass `nextCursor` back as `cursor` for the next one (null: no more).
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlanePage")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Where a page starts and how long it is: `limit` 1 to 1000 (default 50), and the
/// `cursor` a previous page gave (its key, decoded).
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlanePageInput", optional_fields = nullable)]
pub struct PageRequest {
    /// 1 to 1000; 50 when missing.
    #[ts(as = "Option<u32>")]
    pub limit: usize,
    /// The `nextCursor` of the page before; the first page when missing.
    #[ts(as = "Option<String>")]
    pub cursor: Option<Vec<Value>>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: DEFAULT_LIMIT, cursor: None }
    }
}

impl FromInput for PageRequest {
    fn from_input(input: &Input) -> Result<Self> {
        let (limit, cursor) = params(input)?;
        Ok(PageRequest { limit, cursor })
    }
}

/// `limit` (1 to 1000, default 50) and the decoded `cursor` key, if any.
fn params(input: &Input) -> Result<(usize, Option<Vec<Value>>)> {
    let limit = match input.get("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => match v.as_f64() {
            Some(n) if n.fract() == 0.0 && (1.0..=MAX_LIMIT as f64).contains(&n) => n as usize,
            _ => return Err(CpError::field("limit", format!("limit must be a whole number from 1 to {MAX_LIMIT}."))),
        },
    };
    let cursor = match input.get("cursor") {
        None => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(decode(s).ok_or_else(|| CpError::field("cursor", "cursor is not one this store issued."))?),
        Some(_) => return Err(CpError::field("cursor", "cursor must be a string.")),
    };
    Ok((limit, cursor))
}

fn decode(cursor: &str) -> Option<Vec<Value>> {
    if cursor.len() % 2 != 0 || !cursor.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..cursor.len()).step_by(2).map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).ok()).collect();
    match serde_json::from_slice(&bytes?) {
        Ok(Value::Array(key)) => Some(key),
        _ => None,
    }
}

fn encode(key: &[Value]) -> String {
    Value::Array(key.to_vec()).to_string().bytes().map(|b| format!("{b:02x}")).collect()
}

/// Builds a page from up to `limit + 1` rows fetched in order: the extra row only tells
/// that there is more.
pub(crate) fn finish<T: Serialize>(mut rows: Vec<T>, limit: usize, key: impl Fn(&T) -> Vec<Value>) -> Page<T> {
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|last| encode(&key(last)))
    } else {
        None
    };
    Page { items: rows, next_cursor }
}

/// The cursor's key part `i` as text (for keys of text columns).
pub(crate) fn text(key: &Option<Vec<Value>>, i: usize) -> Result<Option<String>> {
    match key {
        None => Ok(None),
        Some(k) => match k.get(i) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(CpError::field("cursor", "cursor is not one this store issued.")),
        },
    }
}

/// The cursor's key part `i` as an integer.
pub(crate) fn int(key: &Option<Vec<Value>>, i: usize) -> Result<Option<i64>> {
    match key {
        None => Ok(None),
        Some(k) => match k.get(i).and_then(Value::as_i64) {
            Some(n) => Ok(Some(n)),
            None => Err(CpError::field("cursor", "cursor is not one this store issued.")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let key = vec![json!("a\u{e9}\"b"), json!(12)];
        assert_eq!(decode(&encode(&key)), Some(key));
        assert_eq!(decode("zz"), None);
        assert_eq!(decode("7b7d"), None); // {} is not a key
    }
}
