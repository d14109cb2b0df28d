//! The store's methods by name: JSON input in, JSON output out. This is the whole surface
//! the binding sees, so a new method is added here and in the JavaScript wrapper only.

use crate::error::{CpError, Result};
use crate::request::FromInput;
use crate::validate::Input;
use crate::audit;
use crate::db::Db;
use serde_json::Value;

/// The names `call` accepts: none left, every operation is a typed function now, run by
/// `request::call`.
pub const METHODS: &[&str] = &[];

/// Runs one store method on a parsed input, its request context (`actorId`, `ipAddress`,
/// `userAgent`, `requestId`) on every audit event it writes. Methods with no result return
/// `null`.
pub fn call_value(conn: &Db, method: &str, input: &Value) -> Result<String> {
    let input = Input::new(input)?;
    let context = audit::RequestContext::from_input(&input)?;
    audit::with_context(context, || run(conn, method, &input))
}

/// Runs one store method on its validated-as-an-object input.
fn run(_conn: &Db, method: &str, _input: &Input) -> Result<String> {
    Err(CpError::invalid(format!("Unknown control-plane method: {method}"), None))
}

/// Runs one store method on its JSON input text: the text parsed, then the same path as a
/// value read from JavaScript (`call_value`). For Rust callers and the fuzz target.
pub fn call(conn: &Db, method: &str, input_json: &str) -> Result<String> {
    let input: Value = serde_json::from_str(input_json)
        .map_err(|e| CpError::field("input", format!("input is not valid JSON: {e}")))?;
    call_value(conn, method, &input)
}
