//! Typed requests: each operation's input is a struct of its own, read once from the
//! caller's input object (`FromInput`, through `validate::Input`) with the validation rules of `validate`, and passed
//! to the operation's function with the request's context:
//! `op(&Db, &RequestContext, Request) -> Result<Output>`.

use crate::db::Db;
use crate::error::Result;
use crate::validate::Input;
use serde_json::Value;

/// An operation's request, read and validated from its input object. The fields are
/// read in a fixed order, so the first field at fault is the one an error names.
pub trait FromInput: Sized {
    /// The input's own fields, for a caller that reads the input object itself and hands
    /// over its fields (the binding's request path); empty for a request not read that
    /// way. A test holds each list to the request's TypeScript type (`typescript`).
    const FIELDS: &'static [&'static str] = &[];

    fn from_input(input: &Input) -> Result<Self>;

    /// From a JSON value, as Rust callers and the fuzz target give one.
    fn from_json(value: &Value) -> Result<Self> {
        Self::from_input(&Input::new(value)?)
    }
}

/// Who made a request and from where: read from a call's input (`actorId`, `ipAddress`,
/// `userAgent`, `requestId`; an org-scoped handle fills them from its context) and
/// written on every audit event the call writes: the actor where the write names none of
/// its own, the origin always.
#[derive(Debug, Clone, Default, PartialEq, ts_rs::TS)]
#[ts(rename = "ControlPlaneRequestContext", rename_all = "camelCase", optional_fields)]
pub struct RequestContext {
    pub actor_id: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl FromInput for RequestContext {
    fn from_input(input: &Input) -> Result<RequestContext> {
        Ok(RequestContext {
            actor_id: input.opt_id("actorId")?,
            ip_address: input.opt_string("ipAddress")?,
            user_agent: input.opt_string("userAgent")?,
            request_id: input.opt_string("requestId")?,
        })
    }
}

/// An empty JSON object: the `metadata` of a request that gave none.
pub(crate) fn empty() -> Value {
    Value::Object(Default::default())
}

/// Reads a call's JSON input as every caller does: the input must be an object; then
/// `read_input`.
pub fn read<R: FromInput>(input: &Value) -> Result<(RequestContext, R)> {
    read_input(&Input::new(input)?)
}

/// Reads a call's input object (JSON, or the fields the binding read): the request
/// context first, then the request.
pub fn read_input<R: FromInput>(input: &Input) -> Result<(RequestContext, R)> {
    let ctx = RequestContext::from_input(input)?;
    let request = R::from_input(input)?;
    Ok((ctx, request))
}

/// Runs one operation on its JSON input as every caller does: the input read (`read`),
/// then the operation run.
pub fn call<R: FromInput, T>(db: &Db, input: &Value, op: impl FnOnce(&Db, &RequestContext, R) -> Result<T>) -> Result<T> {
    let (ctx, request) = read(input)?;
    op(db, &ctx, request)
}

/// `call` on JSON text, for Rust callers and the fuzz target: text that does not parse is
/// `INVALID_INPUT`, as a value that is not an object is.
pub fn call_json<R: FromInput, T>(db: &Db, text: &str, op: impl FnOnce(&Db, &RequestContext, R) -> Result<T>) -> Result<T> {
    let input: Value =
        serde_json::from_str(text).map_err(|e| crate::error::CpError::field("input", format!("input is not valid JSON: {e}")))?;
    call(db, &input, op)
}

/// A JSON object as TypeScript writes it, `Record<string, unknown>`: the type of an
/// optional `metadata` field that the request holds read (`{}` when missing), as
/// `#[ts(as = "Option<JsonObject>")]`.
pub(crate) struct JsonObject;

impl ts_rs::TS for JsonObject {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name() -> String {
        "Record<string, unknown>".into()
    }
    fn inline() -> String {
        Self::name()
    }
    fn inline_flattened() -> String {
        Self::name()
    }
    fn decl() -> String {
        panic!("JsonObject is written inline")
    }
    fn decl_concrete() -> String {
        panic!("JsonObject is written inline")
    }
}
