//! The store's methods by name: JSON input in, JSON output out. This is the whole surface
//! the binding sees, so a new method is added here and in the JavaScript wrapper only.

use crate::error::{CpError, Result};
use crate::request::FromInput;
use crate::validate::Input;
use crate::audit::{self, export, retention};
use crate::metering::{limits, rollups, usage};
use crate::db::Db;
use serde::Serialize;
use serde_json::Value;

fn json<T: Serialize>(value: T) -> Result<String> {
    serde_json::to_string(&value).map_err(|e| CpError::new("INTERNAL", format!("serialising a result: {e}"), None))
}

/// The names `call` accepts: the documented store's methods first, then ours.
pub const METHODS: &[&str] = &[
    "recordUsage",
    "summarizeUsage",
    "setUsageLimit",
    "checkUsageLimit",
    "recordAuditEvent",
    "exportOrgAudit",
    "recordUsageBatch",
    "consumeUsage",
    "listUsageLimits",
    "deleteUsageLimit",
    "queryAuditLog",
    "explainAuditQuery",
    "verifyAuditChain",
    "exportOrgAuditToFile",
    "checkRollups",
    "setRetention",
    "getRetention",
    "purgeExpired",
];

/// Runs one store method on a parsed input, its request context (`actorId`, `ipAddress`,
/// `userAgent`, `requestId`) on every audit event it writes. Methods with no result return
/// `null`.
pub fn call_value(conn: &Db, method: &str, input: &Value) -> Result<String> {
    let input = Input::new(input)?;
    let context = audit::RequestContext::from_input(&input)?;
    audit::with_context(context, || run(conn, method, &input))
}

/// Runs one store method on its validated-as-an-object input.
fn run(conn: &Db, method: &str, input: &Input) -> Result<String> {
    match method {
        "recordUsage" => json(usage::record(conn, input)?),
        "summarizeUsage" => json(usage::summarize(conn, input)?),
        "setUsageLimit" => json(limits::set(conn, input)?),
        "checkUsageLimit" => json(limits::check(conn, input)?),
        "recordAuditEvent" => json(audit::record(conn, input)?),
        "exportOrgAudit" => json(export::export(conn, input)?),
        "recordUsageBatch" => json(usage::record_batch(conn, input)?),
        "consumeUsage" => json(limits::consume(conn, input)?),
        "listUsageLimits" => json(limits::list_page(conn, input)?),
        "deleteUsageLimit" => json(limits::delete(conn, input)?),
        "queryAuditLog" => json(audit::query(conn, input)?),
        "explainAuditQuery" => json(audit::explain(conn, input)?),
        "verifyAuditChain" => json(audit::verify(conn, input)?),
        "exportOrgAuditToFile" => json(export::export_to_file(conn, input)?),
        "checkRollups" => json(rollups::check(conn, input)?),
        "setRetention" => json(retention::set(conn, input)?),
        "getRetention" => json(retention::get(conn, input)?),
        "purgeExpired" => json(retention::purge(conn, input)?),
        _ => Err(CpError::invalid(format!("Unknown control-plane method: {method}"), None)),
    }
}

/// Runs one store method on its JSON input text: the text parsed, then the same path as a
/// value read from JavaScript (`call_value`). For Rust callers and the fuzz target.
pub fn call(conn: &Db, method: &str, input_json: &str) -> Result<String> {
    let input: Value = serde_json::from_str(input_json)
        .map_err(|e| CpError::field("input", format!("input is not valid JSON: {e}")))?;
    call_value(conn, method, &input)
}
