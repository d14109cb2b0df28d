//! Usage events: recording and summing.

use super::error::Result;
use super::parents::Parents;
use super::validate::{Input, MAX_SAFE_INTEGER};
use super::db;
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UsageEvent {
    pub id: i64,
    pub org_id: String,
    pub project_id: Option<String>,
    pub run_id: Option<String>,
    pub metric: String,
    pub quantity: f64,
    pub unit: String,
    pub observed_at_ms: i64,
    pub metadata: Value,
}

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UsageSummary {
    pub org_id: String,
    pub metric: String,
    pub unit: String,
    pub quantity: f64,
}

/// `recordUsage`.
pub fn record(conn: &Connection, input: &Input) -> Result<UsageEvent> {
    let org_id = input.id("orgId")?;
    let project_id = input.opt_id("projectId")?;
    let observed_at_ms = input.timestamp("observedAtMs")?;
    let (metadata, metadata_json) = input.metadata("metadata")?;
    let run_id = input.opt_id("runId")?;
    let metric = input.string("metric")?;
    let quantity = input.non_negative("quantity")?;
    let unit = input.string_or("unit", "count")?;
    let parents = Parents::project(&org_id, project_id.as_deref());
    let id = db::write(conn, |c| {
        c.prepare_cached(
            "INSERT INTO _smithers_cp_usage_events
               (org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata_json])
        .map_err(|e| parents.explain(c, e))?;
        Ok(c.last_insert_rowid())
    })?;
    Ok(UsageEvent { id, org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata })
}

/// A usage window, both ends inclusive.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub since_ms: i64,
    pub until_ms: i64,
}

impl Window {
    /// `sinceMs` / `untilMs` from the input, defaulting to all time.
    pub fn from_input(input: &Input) -> Result<Window> {
        Ok(Window {
            since_ms: input.timestamp_or("sinceMs", 0)?,
            until_ms: input.timestamp_or("untilMs", MAX_SAFE_INTEGER)?,
        })
    }
}

/// `summarizeUsage`: quantities summed per metric and unit over the window.
pub fn summarize(conn: &Connection, input: &Input) -> Result<Vec<UsageSummary>> {
    let org_id = input.id("orgId")?;
    let window = Window::from_input(input)?;
    summarize_for(conn, &org_id, window)
}

pub fn summarize_for(conn: &Connection, org_id: &str, window: Window) -> Result<Vec<UsageSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT org_id, metric, unit, SUM(quantity)
         FROM _smithers_cp_usage_events
         WHERE org_id = ?1 AND observed_at_ms >= ?2 AND observed_at_ms <= ?3
         GROUP BY org_id, metric, unit
         ORDER BY metric, unit",
    )?;
    let rows = stmt.query_map(params![org_id, window.since_ms, window.until_ms], |r| {
        Ok(UsageSummary { org_id: r.get(0)?, metric: r.get(1)?, unit: r.get(2)?, quantity: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The quantity used in a window: one project's events, or every event of the org.
pub fn used(
    conn: &Connection,
    org_id: &str,
    project_id: Option<&str>,
    metric: &str,
    unit: &str,
    window: Window,
) -> Result<f64> {
    let sql = "SELECT COALESCE(SUM(quantity), 0.0) FROM _smithers_cp_usage_events
         WHERE org_id = ?1 AND (?2 IS NULL OR project_id = ?2) AND metric = ?3 AND unit = ?4
           AND observed_at_ms >= ?5 AND observed_at_ms <= ?6";
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![org_id, project_id, metric, unit, window.since_ms, window.until_ms], |r| r.get(0))?)
}
