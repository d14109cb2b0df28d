//! `SqlValue`s to and from PostgreSQL's binary format.
//!
//! A parameter is encoded as the type the prepared statement says it takes, so a NULL
//! goes as a NULL of that type and an integer bound where PostgreSQL wants a float (or a
//! decimal text, or a NUMERIC) is converted rather than refused, as SQLite's affinity
//! would. A column is read by its type: the integers (and booleans) as `Int`, the floats
//! and fractional NUMERICs as `Real`, the text types and JSON as `Text`, BYTEA as `Blob`.

use crate::engine::{whole_number, SqlValue};
use crate::error::{CpError, Result};
use ::postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use bytes::{BufMut, BytesMut};
use std::borrow::Cow;
use std::error::Error;

/// A parameter ready to encode as the type its statement takes.
#[derive(Debug)]
pub(crate) enum Bound<'a> {
    Null,
    I64(i64),
    I32(i32),
    I16(i16),
    F64(f64),
    F32(f32),
    Bool(bool),
    /// TEXT, VARCHAR, JSON and the like: the UTF-8 bytes.
    Text(Cow<'a, str>),
    /// JSONB: a version byte, then the text.
    Jsonb(&'a str),
    Bytes(&'a [u8]),
    /// Already in NUMERIC's binary form.
    Numeric(Vec<u8>),
}

impl ToSql for Bound<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Bound::Null => return Ok(IsNull::Yes),
            Bound::I64(v) => out.put_i64(*v),
            Bound::I32(v) => out.put_i32(*v),
            Bound::I16(v) => out.put_i16(*v),
            Bound::F64(v) => out.put_f64(*v),
            Bound::F32(v) => out.put_f32(*v),
            Bound::Bool(v) => out.put_u8(*v as u8),
            Bound::Text(s) => out.put_slice(s.as_bytes()),
            Bound::Jsonb(s) => {
                out.put_u8(1);
                out.put_slice(s.as_bytes());
            }
            Bound::Bytes(b) => out.put_slice(b),
            Bound::Numeric(b) => out.put_slice(b),
        }
        Ok(IsNull::No)
    }

    /// `bind` chose the encoding from the statement's type already.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(ty: &Type) -> bool {
    [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME, Type::UNKNOWN, Type::JSON].contains(ty)
}

fn kind(value: SqlValue) -> &'static str {
    match value {
        SqlValue::Null => "NULL",
        SqlValue::Int(_) => "an integer",
        SqlValue::Real(_) => "a real",
        SqlValue::Text(_) => "text",
        SqlValue::Blob(_) => "a blob",
    }
}

/// The value of parameter `index` (from 0) as the type `ty` its statement takes.
pub(crate) fn bind<'a>(value: SqlValue<'a>, ty: &Type, index: usize) -> Result<Bound<'a>> {
    let refused = |why: &str| {
        CpError::new(
            "STORAGE_ERROR",
            format!("PostgreSQL: parameter ?{} is {}{why}, but the statement takes {ty}", index + 1, kind(value)),
            Some(serde_json::json!({ "pgCode": null, "parameter": index + 1, "pgType": ty.name() })),
        )
    };
    Ok(match value {
        SqlValue::Null => Bound::Null,
        SqlValue::Int(i) => match *ty {
            Type::INT8 => Bound::I64(i),
            Type::INT4 => Bound::I32(i32::try_from(i).map_err(|_| refused(" out of its range"))?),
            Type::INT2 => Bound::I16(i16::try_from(i).map_err(|_| refused(" out of its range"))?),
            Type::FLOAT8 => Bound::F64(i as f64),
            Type::FLOAT4 => Bound::F32(i as f32),
            Type::BOOL => Bound::Bool(i != 0),
            Type::NUMERIC => Bound::Numeric(numeric_from_decimal(&i.to_string())),
            ref t if is_text(t) => Bound::Text(Cow::Owned(i.to_string())),
            _ => return Err(refused("")),
        },
        SqlValue::Real(f) => match *ty {
            Type::FLOAT8 => Bound::F64(f),
            Type::FLOAT4 => Bound::F32(f as f32),
            Type::INT8 | Type::INT4 | Type::INT2 | Type::BOOL => match whole_number(f) {
                Some(i) => bind(SqlValue::Int(i), ty, index)?,
                None => return Err(refused(" with a fraction")),
            },
            Type::NUMERIC => Bound::Numeric(numeric_from_f64(f)),
            ref t if is_text(t) => Bound::Text(Cow::Owned(f.to_string())),
            _ => return Err(refused("")),
        },
        SqlValue::Text(s) => match *ty {
            Type::JSONB => Bound::Jsonb(s),
            Type::BYTEA => Bound::Bytes(s.as_bytes()),
            ref t if is_text(t) => Bound::Text(Cow::Borrowed(s)),
            _ => return Err(refused("")),
        },
        SqlValue::Blob(b) => match *ty {
            Type::BYTEA => Bound::Bytes(b),
            _ => return Err(refused("")),
        },
    })
}

/// A column's value in PostgreSQL's binary format, borrowed from its row.
pub(crate) struct Raw<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The value of column `column` of type `ty`, from its binary form.
pub(crate) fn read<'a>(ty: &Type, raw: Option<&'a [u8]>, column: usize) -> Result<SqlValue<'a>> {
    let Some(raw) = raw else { return Ok(SqlValue::Null) };
    let bad = |what: &str| CpError::new("STORAGE_ERROR", format!("PostgreSQL: column {column} ({ty}): {what}"), None);
    let fixed = |n: usize| -> Result<&'a [u8]> { if raw.len() == n { Ok(raw) } else { Err(bad("a value of the wrong length")) } };
    Ok(match *ty {
        Type::INT8 => SqlValue::Int(i64::from_be_bytes(fixed(8)?.try_into().unwrap())),
        Type::INT4 => SqlValue::Int(i32::from_be_bytes(fixed(4)?.try_into().unwrap()) as i64),
        Type::INT2 => SqlValue::Int(i16::from_be_bytes(fixed(2)?.try_into().unwrap()) as i64),
        Type::OID => SqlValue::Int(u32::from_be_bytes(fixed(4)?.try_into().unwrap()) as i64),
        Type::BOOL => SqlValue::Int((fixed(1)?[0] != 0) as i64),
        Type::FLOAT8 => SqlValue::Real(f64::from_be_bytes(fixed(8)?.try_into().unwrap())),
        Type::FLOAT4 => SqlValue::Real(f32::from_be_bytes(fixed(4)?.try_into().unwrap()) as f64),
        Type::NUMERIC => numeric_value(raw).ok_or_else(|| bad("a malformed NUMERIC"))?,
        Type::BYTEA => SqlValue::Blob(raw),
        Type::JSONB => match raw.split_first() {
            Some((1, text)) => SqlValue::Text(std::str::from_utf8(text).map_err(|e| bad(&e.to_string()))?),
            _ => return Err(bad("an unknown JSONB version")),
        },
        Type::VOID => SqlValue::Null,
        ref t if is_text(t) => SqlValue::Text(std::str::from_utf8(raw).map_err(|e| bad(&e.to_string()))?),
        _ => return Err(bad("a type the engine does not read (cast it in the query)")),
    })
}

// NUMERIC's binary form: ndigits, weight (of the first digit, in powers of 10000), sign,
// display scale (i16, i16, u16, u16), then ndigits base-10000 digits (i16).
const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// A NUMERIC as an `Int` when it is a whole number in range (`SUM` of BIGINTs, as
/// SQLite's `SUM` of integers is an integer), else a `Real`.
fn numeric_value(raw: &[u8]) -> Option<SqlValue<'static>> {
    let word = |i: usize| raw.get(i * 2..i * 2 + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i32;
    let sign = word(2)?;
    let dscale = word(3)?;
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Option<_>>()?;
    match sign {
        NUMERIC_NAN => return Some(SqlValue::Real(f64::NAN)),
        NUMERIC_PINF => return Some(SqlValue::Real(f64::INFINITY)),
        NUMERIC_NINF => return Some(SqlValue::Real(f64::NEG_INFINITY)),
        NUMERIC_POS | NUMERIC_NEG => {}
        _ => return None,
    }
    let negative = sign == NUMERIC_NEG;
    // The exponent (in powers of 10000) of the last digit.
    let last = weight - ndigits as i32 + 1;
    if dscale == 0 && last >= 0 {
        let mut acc: i128 = 0;
        let mut fits = true;
        for &d in &digits {
            match acc.checked_mul(10_000).and_then(|a| a.checked_add(d as i128)) {
                Some(a) => acc = a,
                None => fits = false,
            }
        }
        for _ in 0..last {
            match acc.checked_mul(10_000) {
                Some(a) => acc = a,
                None => fits = false,
            }
        }
        if negative {
            acc = -acc;
        }
        if let (true, Ok(i)) = (fits, i64::try_from(acc)) {
            return Some(SqlValue::Int(i));
        }
    }
    if digits.is_empty() {
        return Some(SqlValue::Real(0.0));
    }
    let mantissa: String = digits.iter().map(|d| format!("{d:04}")).collect();
    let text = format!("{}{mantissa}e{}", if negative { "-" } else { "" }, last * 4);
    text.parse().ok().map(SqlValue::Real)
}

fn numeric_from_f64(f: f64) -> Vec<u8> {
    if f.is_nan() {
        numeric_bytes(0, NUMERIC_NAN, 0, &[])
    } else if f.is_infinite() {
        numeric_bytes(0, if f > 0.0 { NUMERIC_PINF } else { NUMERIC_NINF }, 0, &[])
    } else {
        // Rust writes floats in plain decimal, never with an exponent.
        numeric_from_decimal(&f.to_string())
    }
}

/// A plain decimal (`-12.5`, `300`) in NUMERIC's binary form.
fn numeric_from_decimal(text: &str) -> Vec<u8> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
    let int_part = int_part.trim_start_matches('0');
    let frac_part = frac_part.trim_end_matches('0');
    let dscale = frac_part.len() as u16;
    // Whole groups of four decimal digits, aligned on the decimal point.
    let int_padded = format!("{}{int_part}", "0".repeat((4 - int_part.len() % 4) % 4));
    let frac_padded = format!("{frac_part}{}", "0".repeat((4 - frac_part.len() % 4) % 4));
    let group = |s: &str| -> Vec<u16> { s.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap().parse().unwrap()).collect() };
    let mut weight = int_padded.len() as i16 / 4 - 1;
    let mut digits = group(&int_padded);
    digits.extend(group(&frac_padded));
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        return numeric_bytes(0, NUMERIC_POS, dscale, &[]);
    }
    numeric_bytes(weight, if negative { NUMERIC_NEG } else { NUMERIC_POS }, dscale, &digits)
}

fn numeric_bytes(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + digits.len() * 2);
    out.extend((digits.len() as u16).to_be_bytes());
    out.extend(weight.to_be_bytes());
    out.extend(sign.to_be_bytes());
    out.extend(dscale.to_be_bytes());
    for d in digits {
        out.extend(d.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerics_round_trip_through_the_binary_form() {
        for (text, expected) in [
            ("0", SqlValue::Int(0)),
            ("12345678", SqlValue::Int(12_345_678)),
            ("-10000", SqlValue::Int(-10_000)),
            ("9223372036854775807", SqlValue::Int(i64::MAX)),
            ("1.5", SqlValue::Real(1.5)),
            ("-0.0001", SqlValue::Real(-0.0001)),
            ("123.456", SqlValue::Real(123.456)),
        ] {
            assert_eq!(numeric_value(&numeric_from_decimal(text)), Some(expected), "{text}");
        }
        assert_eq!(numeric_value(&numeric_from_decimal("92233720368547758070")), Some(SqlValue::Real(9.223372036854776e19)));
        assert_eq!(numeric_value(&numeric_from_f64(0.1)), Some(SqlValue::Real(0.1)));
        assert!(matches!(numeric_value(&numeric_from_f64(f64::NAN)), Some(SqlValue::Real(f)) if f.is_nan()));
    }
}
