//! `exportOrgAudit`: everything an org holds, read from one snapshot.

use super::audit::{self, AuditEvent};
use super::billing::{self, BillingAccount};
use super::db;
use super::error::{CpError, Result};
use super::identity::{self, IdentityProvider};
use super::limits::{self, UsageLimit};
use super::orgs::{self, Org};
use super::projects::{self, Project};
use super::secrets::{self, Scope, SecretRef};
use super::teams::{self, Team};
use super::usage::{self, UsageSummary, Window};
use super::validate::Input;
use rusqlite::Connection;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgExport {
    pub exported_at_ms: i64,
    pub org: Org,
    pub projects: Vec<Project>,
    pub teams: Vec<Team>,
    pub billing: Option<BillingAccount>,
    pub identity_providers: Vec<IdentityProvider>,
    pub usage: Vec<UsageSummary>,
    pub usage_limits: Vec<UsageLimit>,
    pub secret_refs: Vec<SecretRef>,
    pub audit_events: Vec<AuditEvent>,
}

pub fn export(conn: &Connection, input: &Input) -> Result<OrgExport> {
    let org_id = input.id("orgId")?;
    let window = Window::from_input(input)?;
    let exported_at_ms = input.timestamp("exportedAtMs")?;
    super::rollups::fold_long_tail(conn)?;
    db::read(conn, |c| {
        let org = orgs::get(c, &org_id)?.ok_or_else(|| CpError::org_not_found(&org_id))?;
        Ok(OrgExport {
            exported_at_ms,
            org,
            projects: projects::list(c, &org_id)?,
            teams: teams::list(c, &org_id)?,
            billing: billing::get(c, &org_id)?,
            identity_providers: identity::list_for(c, &org_id, None)?,
            usage: usage::summarize_for(c, &org_id, window)?,
            usage_limits: limits::list(c, &org_id)?,
            secret_refs: secrets::list_for(c, &org_id, &Scope::All)?,
            audit_events: audit::list_window(c, &org_id, window.since_ms, window.until_ms)?,
        })
    })
}

/// What `exportOrgAuditToFile` wrote.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileExport {
    pub path: String,
    pub format: String,
    pub exported_at_ms: i64,
    pub bytes: u64,
    pub projects: usize,
    pub teams: usize,
    pub identity_providers: usize,
    pub usage_limits: usize,
    pub secret_refs: usize,
    pub audit_events: u64,
}

fn io_error(err: std::io::Error, path: &str) -> CpError {
    CpError::new("STORAGE_ERROR", format!("Writing the export to {path}: {err}"), Some(serde_json::json!({ "path": path })))
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

/// `exportOrgAuditToFile({orgId, path, format, sinceMs?, untilMs?, exportedAtMs?})`: the
/// export streamed from SQLite to a file, in constant memory however many audit events
/// there are, and atomically: written to a temporary file beside `path`, synced, then
/// renamed over it. `json` is the `exportOrgAudit` object; `ndjson` one record a line,
/// each with a `type`; `csv` the audit events only, with a header. `progress` counts the
/// audit events written.
pub fn export_to_file(conn: &Connection, input: &Input, progress: &std::sync::atomic::AtomicU64) -> Result<FileExport> {
    use std::io::Write;
    let org_id = input.id("orgId")?;
    let path = input.string("path")?;
    let format = input.string("format")?;
    if !["json", "ndjson", "csv"].contains(&format.as_str()) {
        return Err(CpError::field("format", "format must be one of: json, ndjson, csv."));
    }
    let window = Window::from_input(input)?;
    let exported_at_ms = input.timestamp("exportedAtMs")?;
    super::rollups::fold_long_tail(conn)?;
    let tmp = format!("{path}.tmp-{}-{}", std::process::id(), super::validate::now_ms());
    let result = db::read(conn, |c| {
        let org = orgs::get(c, &org_id)?.ok_or_else(|| CpError::org_not_found(&org_id))?;
        let file = std::fs::File::create(&tmp).map_err(|e| io_error(e, &path))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        let projects = projects::list(c, &org_id)?;
        let teams = teams::list(c, &org_id)?;
        let billing = billing::get(c, &org_id)?;
        let identity_providers = identity::list_for(c, &org_id, None)?;
        let usage = usage::summarize_for(c, &org_id, window)?;
        let usage_limits = limits::list(c, &org_id)?;
        let secret_refs = secrets::list_for(c, &org_id, &Scope::All)?;
        let write = |out: &mut std::io::BufWriter<std::fs::File>, text: &str| out.write_all(text.as_bytes()).map_err(|e| io_error(e, &path));
        let to_json = |v: &dyn erased::Json| v.json();
        match format.as_str() {
            "json" => {
                write(&mut out, &format!(
                    "{{\"exportedAtMs\":{exported_at_ms},\"org\":{},\"projects\":{},\"teams\":{},\"billing\":{},\"identityProviders\":{},\"usage\":{},\"usageLimits\":{},\"secretRefs\":{},\"auditEvents\":[",
                    to_json(&org), to_json(&projects), to_json(&teams), to_json(&billing), to_json(&identity_providers),
                    to_json(&usage), to_json(&usage_limits), to_json(&secret_refs)
                ))?;
            }
            "ndjson" => {
                let line = |kind: &str, v: &dyn erased::Json| -> String {
                    let mut obj = serde_json::from_str::<serde_json::Value>(&v.json()).unwrap_or_default();
                    if let serde_json::Value::Object(map) = &mut obj {
                        map.shift_insert(0, "type".into(), serde_json::Value::String(kind.into()));
                    }
                    format!("{obj}\n")
                };
                write(&mut out, &format!("{{\"type\":\"export\",\"exportedAtMs\":{exported_at_ms},\"orgId\":{}}}\n", serde_json::Value::String(org_id.clone())))?;
                write(&mut out, &line("org", &org))?;
                for p in &projects { write(&mut out, &line("project", p))?; }
                for t in &teams { write(&mut out, &line("team", t))?; }
                if let Some(b) = &billing { write(&mut out, &line("billing", b))?; }
                for p in &identity_providers { write(&mut out, &line("identityProvider", p))?; }
                for u in &usage { write(&mut out, &line("usage", u))?; }
                for l in &usage_limits { write(&mut out, &line("usageLimit", l))?; }
                for s in &secret_refs { write(&mut out, &line("secretRef", s))?; }
            }
            _ => write(&mut out, "id,orgId,projectId,actorId,action,targetType,targetId,occurredAtMs,metadata\n")?,
        }
        let mut events = 0u64;
        audit::for_each_in_window(c, &org_id, window.since_ms, window.until_ms, |e| {
            let text = match format.as_str() {
                "json" => format!("{}{}", if events == 0 { "" } else { "," }, to_json(&e)),
                "ndjson" => {
                    let body = to_json(&e);
                    format!("{{\"type\":\"auditEvent\",{}\n", &body[1..])
                }
                _ => csv_row(&e),
            };
            write(&mut out, &text)?;
            events += 1;
            progress.store(events, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })?;
        if format == "json" {
            write(&mut out, "]}")?;
        }
        let file = out.into_inner().map_err(|e| io_error(e.into_error(), &path))?;
        file.sync_all().map_err(|e| io_error(e, &path))?;
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(FileExport {
            path: path.clone(),
            format: format.clone(),
            exported_at_ms,
            bytes,
            projects: projects.len(),
            teams: teams.len(),
            identity_providers: identity_providers.len(),
            usage_limits: usage_limits.len(),
            secret_refs: secret_refs.len(),
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

/// Serialising any of the export's parts to JSON text through one signature.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|_| "null".into())
        }
    }
}
