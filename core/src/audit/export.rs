//! `exportOrgAudit`: everything an org holds, read from one snapshot.

use crate::audit::{self, AuditEvent};
use crate::settings::billing::{self, BillingAccount};
use crate::db;
use crate::error::{CpError, Result};
use crate::settings::identity::{self, IdentityProvider};
use crate::metering::limits::{self, UsageLimit};
use crate::metering::credits::corrections::{self, UsageCorrection};
use crate::metering::credits::grants::{self, CreditGrant};
use crate::tenancy::orgs::{self, Org};
use crate::tenancy::projects::{self, Project};
use crate::settings::secrets::{self, Scope, SecretRef};
use crate::tenancy::teams::{self, Team};
use crate::metering::usage::{self, UsageSummary, Window};
use crate::request::{FromInput, RequestContext};
use crate::validate::Input;
use crate::db::Db;
use serde::Serialize;
use ts_rs::TS;

/// Everything an org holds, read from one snapshot.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneExport")]
pub struct OrgExport {
    pub exported_at_ms: i64,
    pub org: Org,
    pub projects: Vec<Project>,
    pub teams: Vec<Team>,
    pub billing: Option<BillingAccount>,
    pub identity_providers: Vec<IdentityProvider>,
    /// Summed per metric and unit over the window.
    pub usage: Vec<UsageSummary>,
    pub usage_limits: Vec<UsageLimit>,
    pub secret_refs: Vec<SecretRef>,
    /// Every credit grant of the org, voided and expired ones too, by id.
    pub credit_grants: Vec<CreditGrant>,
    /// The corrections of usage made in the window, in order.
    pub usage_corrections: Vec<UsageCorrection>,
    /// The events in the window, by time.
    pub audit_events: Vec<AuditEvent>,
}

/// `exportOrgAudit`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneExportOrgAuditInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ExportOrgAudit {
    pub org_id: String,
    /// The window of the usage summed and of the audit events.
    #[ts(flatten)]
    pub window: Window,
    /// Now when missing.
    #[ts(as = "Option<i64>")]
    pub exported_at_ms: i64,
}

impl FromInput for ExportOrgAudit {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(ExportOrgAudit {
            org_id: input.id("orgId")?,
            window: Window::from_input(input)?,
            exported_at_ms: input.timestamp("exportedAtMs")?,
        })
    }
}

/// Everything of the export but the audit events (left empty), read in the caller's
/// snapshot; `INVALID_INPUT` for an org that does not exist.
fn read_parts(c: &Db, org_id: &str, window: Window, exported_at_ms: i64) -> Result<OrgExport> {
    let org = orgs::get(c, org_id)?.ok_or_else(|| CpError::org_not_found(org_id))?;
    Ok(OrgExport {
        exported_at_ms,
        org,
        projects: projects::list(c, org_id)?,
        teams: teams::list(c, org_id)?,
        billing: billing::get(c, org_id)?,
        identity_providers: identity::list_for(c, org_id, None)?,
        usage: usage::summarize_for(c, org_id, window)?,
        usage_limits: limits::list(c, org_id)?,
        secret_refs: secrets::list_for(c, org_id, &Scope::All)?,
        credit_grants: grants::list_for(c, org_id)?,
        usage_corrections: corrections::list_for(c, org_id, window.since_ms, window.until_ms)?,
        audit_events: Vec::new(),
    })
}

/// `exportOrgAudit`: everything of the org, with its audit events in the window, in memory.
pub fn export(conn: &Db, _ctx: &RequestContext, req: ExportOrgAudit) -> Result<OrgExport> {
    let ExportOrgAudit { org_id, window, exported_at_ms } = req;
    crate::metering::rollups::fold_long_tail(conn, &org_id)?;
    db::read(conn, |c| {
        let mut parts = read_parts(c, &org_id, window, exported_at_ms)?;
        parts.audit_events = audit::list_window(c, &org_id, window.since_ms, window.until_ms)?;
        Ok(parts)
    })
}

/// The layout of an export file: `json`, the `exportOrgAudit` object; `ndjson`, one record
/// a line, each with a `type`; `csv`, the audit events only, with a header (grants, their
/// voiding and corrections are there as their audit events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "ControlPlaneExportFormat")]
pub enum ExportFormat {
    Json,
    Ndjson,
    Csv,
}

/// `exportOrgAuditToFile`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneExportOrgAuditToFileInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ExportOrgAuditToFile {
    pub org_id: String,
    /// Replaced whole once the export is written; a temporary file beside it until then.
    pub path: String,
    pub format: ExportFormat,
    /// The window of the usage summed and of the audit events.
    #[ts(flatten)]
    pub window: Window,
    /// Now when missing.
    #[ts(as = "Option<i64>")]
    pub exported_at_ms: i64,
}

impl FromInput for ExportOrgAuditToFile {
    fn from_input(input: &Input) -> Result<Self> {
        let org_id = input.id("orgId")?;
        let path = input.string("path")?;
        let format = match input.string("format")?.as_str() {
            "json" => ExportFormat::Json,
            "ndjson" => ExportFormat::Ndjson,
            "csv" => ExportFormat::Csv,
            _ => return Err(CpError::field("format", "format must be one of: json, ndjson, csv.")),
        };
        let window = Window::from_input(input)?;
        let exported_at_ms = input.timestamp("exportedAtMs")?;
        Ok(ExportOrgAuditToFile { org_id, path, format, window, exported_at_ms })
    }
}

/// What `exportOrgAuditToFile` wrote.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneFileExport")]
pub struct FileExport {
    pub path: String,
    pub format: ExportFormat,
    pub exported_at_ms: i64,
    /// The file's size, in bytes.
    pub bytes: u64,
    pub projects: usize,
    pub teams: usize,
    pub identity_providers: usize,
    pub usage_limits: usize,
    pub secret_refs: usize,
    pub credit_grants: usize,
    pub usage_corrections: usize,
    pub audit_events: u64,
}

fn io_error(err: std::io::Error, path: &str) -> CpError {
    CpError::new("STORAGE_ERROR", format!("Writing the export to {path}: {err}"), Some(serde_json::json!({ "path": path })))
}

/// A new file readable and writable by its owner only, like the database: an export holds
/// actor ids and metadata.
fn create_private(path: &str) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn csv_row(e: &AuditEvent) -> String {
    let mut out = String::with_capacity(128);
    let fields = [
        e.id.to_string(),
        e.org_id.clone(),
        e.project_id.clone().unwrap_or_default(),
        e.actor_id.clone().unwrap_or_default(),
        e.action.clone(),
        e.target_type.clone(),
        e.target_id.clone().unwrap_or_default(),
        e.occurred_at_ms.to_string(),
        e.metadata.to_string(),
        e.ip_address.clone().unwrap_or_default(),
        e.user_agent.clone().unwrap_or_default(),
        e.request_id.clone().unwrap_or_default(),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(&mut out, f);
    }
    out.push('\n');
    out
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// One ndjson line: the value's fields after a leading `"type"`.
fn ndjson_line<T: Serialize>(kind: &str, value: &T) -> String {
    let mut obj = serde_json::to_value(value).unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut obj {
        map.shift_insert(0, "type".into(), serde_json::Value::String(kind.into()));
    }
    format!("{obj}\n")
}

/// `exportOrgAuditToFile({orgId, path, format, sinceMs?, untilMs?, exportedAtMs?})`: the
/// export streamed from SQLite to a file, in constant memory however many audit events
/// there are, and atomically: written to a temporary file beside `path`, synced, then
/// renamed over it. `json` is the `exportOrgAudit` object; `ndjson` one record a line,
/// each with a `type`; `csv` the audit events only, with a header.
pub fn export_to_file(conn: &Db, _ctx: &RequestContext, req: ExportOrgAuditToFile) -> Result<FileExport> {
    use std::io::Write;
    let ExportOrgAuditToFile { org_id, path, format, window, exported_at_ms } = req;
    crate::metering::rollups::fold_long_tail(conn, &org_id)?;
    let tmp = format!("{path}.tmp-{}-{}", std::process::id(), crate::validate::now_ms());
    let result = db::read(conn, |c| {
        let parts = read_parts(c, &org_id, window, exported_at_ms)?;
        let file = create_private(&tmp).map_err(|e| io_error(e, &path))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        let write = |out: &mut std::io::BufWriter<std::fs::File>, text: &str| out.write_all(text.as_bytes()).map_err(|e| io_error(e, &path));
        match format {
            ExportFormat::Json => {
                // The object with its (last, empty) audit events left open: `...,"auditEvents":[`.
                let head = to_json(&parts);
                write(&mut out, &head[..head.len() - 2])?;
            }
            ExportFormat::Ndjson => {
                write(&mut out, &format!("{{\"type\":\"export\",\"exportedAtMs\":{exported_at_ms},\"orgId\":{}}}\n", to_json(&org_id)))?;
                write(&mut out, &ndjson_line("org", &parts.org))?;
                for p in &parts.projects { write(&mut out, &ndjson_line("project", p))?; }
                for t in &parts.teams { write(&mut out, &ndjson_line("team", t))?; }
                if let Some(b) = &parts.billing { write(&mut out, &ndjson_line("billing", b))?; }
                for p in &parts.identity_providers { write(&mut out, &ndjson_line("identityProvider", p))?; }
                for u in &parts.usage { write(&mut out, &ndjson_line("usage", u))?; }
                for l in &parts.usage_limits { write(&mut out, &ndjson_line("usageLimit", l))?; }
                for s in &parts.secret_refs { write(&mut out, &ndjson_line("secretRef", s))?; }
                for g in &parts.credit_grants { write(&mut out, &ndjson_line("creditGrant", g))?; }
                for k in &parts.usage_corrections { write(&mut out, &ndjson_line("usageCorrection", k))?; }
            }
            ExportFormat::Csv => write(&mut out, "id,orgId,projectId,actorId,action,targetType,targetId,occurredAtMs,metadata,ipAddress,userAgent,requestId\n")?,
        }
        let mut events = 0u64;
        audit::for_each_in_window(c, &org_id, window.since_ms, window.until_ms, |e| {
            let text = match format {
                ExportFormat::Json => format!("{}{}", if events == 0 { "" } else { "," }, to_json(&e)),
                ExportFormat::Ndjson => ndjson_line("auditEvent", &e),
                ExportFormat::Csv => csv_row(&e),
            };
            write(&mut out, &text)?;
            events += 1;
            Ok(())
        })?;
        if format == ExportFormat::Json {
            write(&mut out, "]}")?;
        }
        let file = out.into_inner().map_err(|e| io_error(e.into_error(), &path))?;
        file.sync_all().map_err(|e| io_error(e, &path))?;
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(FileExport {
            path: path.clone(),
            format,
            exported_at_ms,
            bytes,
            projects: parts.projects.len(),
            teams: parts.teams.len(),
            identity_providers: parts.identity_providers.len(),
            usage_limits: parts.usage_limits.len(),
            secret_refs: parts.secret_refs.len(),
            credit_grants: parts.credit_grants.len(),
            usage_corrections: parts.usage_corrections.len(),
            audit_events: events,
        })
    });
    match result {
        Ok(report) => {
            std::fs::rename(&tmp, &path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                io_error(e, &path)
            })?;
            Ok(report)
        }
        Err(err) => {
            let _ = std::fs::remove_file(&tmp);
            Err(err)
        }
    }
}
