//! `marshalProbe(what, input, n)`: the pieces of a call's marshalling alone, `n` times, for
//! `bench/marshal.js` (not part of the API: no types, not exported by `index.js`).
//!
//! - `readUsage`, `readCheck`: `recordUsage`'s and `checkUsageLimit`'s input read into
//!   their typed requests, in one pass (`input::read_input`); with `:json`, the way before
//!   it: the whole object read into a JSON value, the request read from that.

use super::env_data::to_js;
use super::input::{self, Read};
use control_plane_core::error::Result as CoreResult;
use control_plane_core::metering::limits::CheckUsageLimit;
use control_plane_core::metering::usage::NewUsage;
use control_plane_core::request::{self, FromInput, RequestContext};
use napi::bindgen_prelude::Unknown;
use napi::{Env, Error, Result, Status};
use napi_derive::napi;

fn typed<R: FromInput>(env: &Env, input: Unknown, whole: bool) -> CoreResult<(RequestContext, R)> {
    if whole {
        request::read(&input::read(env, input)?)
    } else {
        let read: Read = input::read_input(env, input)?;
        request::read_input(&read.input()?)
    }
}

#[napi(skip_typescript)]
pub fn marshal_probe(env: &Env, what: String, input: Unknown, n: u32) -> Result<Vec<u32>> {
    let (piece, whole) = match what.split_once(':') {
        Some((piece, "json")) => (piece, true),
        _ => (what.as_str(), false),
    };
    for _ in 0..n {
        match piece {
            "readUsage" => typed::<NewUsage>(env, input, whole).map(drop),
            "readCheck" => typed::<CheckUsageLimit>(env, input, whole).map(drop),
            _ => return Err(Error::new(Status::InvalidArg, format!("no probe {what}"))),
        }
        .map_err(|e| to_js(env, e))?;
    }
    Ok(Vec::new())
}
