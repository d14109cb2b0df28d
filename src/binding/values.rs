//! JavaScript values as SQLite data: the parameters of our `Database`'s statements, and the
//! row values a host handle returns. One rule for both.

use control_plane_core::engine::{whole_number, SqlData};
use napi::bindgen_prelude::{BigInt, FromNapiValue, Uint8ArraySlice, Unknown};
use napi::{JsValue, ValueType};

/// What SQLite cannot hold, or could not be read.
pub enum NotSql {
    /// A kind SQL has no place for (an object, a function, a symbol).
    Kind(ValueType),
    /// A BigInt past 64 bits.
    BigIntTooLarge,
    Unreadable(String),
}

/// `undefined` and `null` as NULL, a boolean as 0 or 1, a whole number as an integer (else
/// a real), a BigInt as an integer, a string as text, a Uint8Array or Buffer as a blob.
/// Each is read by its type's own `FromNapiValue` (`from_unknown`), after `get_type`.
pub fn sql_of(value: Unknown) -> Result<SqlData, NotSql> {
    let read = |e: napi::Error| NotSql::Unreadable(e.reason);
    Ok(match value.get_type().map_err(read)? {
        ValueType::Undefined | ValueType::Null => SqlData::Null,
        ValueType::Boolean => SqlData::Int(bool::from_unknown(value).map_err(read)? as i64),
        ValueType::Number => {
            let f = f64::from_unknown(value).map_err(read)?;
            whole_number(f).map_or(SqlData::Real(f), SqlData::Int)
        }
        ValueType::BigInt => {
            let (i, lossless) = BigInt::from_unknown(value).map_err(read)?.get_i64();
            if !lossless {
                return Err(NotSql::BigIntTooLarge);
            }
            SqlData::Int(i)
        }
        ValueType::String => SqlData::Text(String::from_unknown(value).map_err(read)?),
        ValueType::Object if value.is_typedarray().unwrap_or(false) => {
            SqlData::Blob(Uint8ArraySlice::from_unknown(value).map_err(read)?.to_vec())
        }
        other => return Err(NotSql::Kind(other)),
    })
}
