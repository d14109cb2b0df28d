//! Balances: what a scope's grants hold at an instant, computed from the grants and the
//! usage rollups, never by replaying events.
//!
//! Time is cut at every instant where the set of grants or their amounts change: a
//! grant's effect, its expiry or voiding, each reset of a recurring grant. Between two such
//! instants the order grants burn in is fixed, so what the interval's events burn depends
//! only on their sums, not on their order: each project's usage burns its own grants, in
//! order, as one sum would; what spills over (and every event without a project or
//! without grants of its own) burns the org's grants, in order, as one sum; what is left
//! is overage. So a balance costs one rollup sum per interval (and one more per project
//! that has grants of its own in it), whatever the number of events.

use super::grants::{self, CreditGrant};
use crate::db::{self, Db};
use crate::engine::{Dialect, SqlValue, ToSql};
use crate::error::Result;
use crate::metering::rollups::{self, Series, ALL};
use crate::request::{FromInput, RequestContext};
use crate::validate::Input;
use serde::Serialize;
use ts_rs::TS;

/// A grant's remaining at an instant.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneGrantRemaining")]
pub struct GrantRemaining {
    pub grant_id: String,
    pub project_id: Option<String>,
    pub remaining: f64,
    /// When it stops counting: its expiry or its voiding, the first; `null` for never.
    pub expires_at_ms: Option<i64>,
}

/// A scope's balance at an instant.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneBalance")]
pub struct Balance {
    /// What the scope may still draw on: the remaining of the grants listed.
    pub balance: f64,
    /// The org's usage of the metric and unit, up to then, that no grant covered (every
    /// project's and the org's own: the account's, whichever scope is asked for).
    pub overage: f64,
    /// The grants the scope draws on that are active then, in the order usage burns them.
    pub grants: Vec<GrantRemaining>,
    pub at_ms: i64,
}

/// `getBalance`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneGetBalanceInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct GetBalance {
    pub org_id: String,
    /// The project's balance (its own grants, then the org's); the org's when missing.
    pub project_id: Option<String>,
    pub metric: String,
    /// `count` when missing.
    #[ts(as = "Option<String>")]
    pub unit: String,
    /// Now when missing; any instant, past or future.
    #[ts(as = "Option<i64>")]
    pub at_ms: i64,
}

impl FromInput for GetBalance {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(GetBalance {
            org_id: input.id("orgId")?,
            project_id: input.opt_id("projectId")?,
            metric: input.string("metric")?,
            unit: input.string_or("unit", "count")?,
            at_ms: input.timestamp("atMs")?,
        })
    }
}

/// `getBalance`: the balance at `atMs`, in one snapshot.
pub fn get(conn: &Db, _ctx: &RequestContext, req: GetBalance) -> Result<Balance> {
    db::read(conn, |c| {
        crate::tenancy::orgs::guard(c, &req.org_id, crate::tenancy::orgs::WriteKind::Other)
            .or_else(|e| if e.code == "ORG_SUSPENDED" { Ok(()) } else { Err(e) })?;
        balance_at(c, &req.org_id, req.project_id.as_deref(), &req.metric, &req.unit, req.at_ms)
    })
}

/// The balance of `project` (the org's: `None`) at `at`, inside the caller's transaction.
pub(crate) fn balance_at(conn: &Db, org_id: &str, project: Option<&str>, metric: &str, unit: &str, at: i64) -> Result<Balance> {
    let grants = grants::of_account(conn, org_id, metric, unit)?;
    let mut held: Vec<Held> = grants.iter().map(|g| Held { grant: g, remaining: g.amount }).collect();
    // The burn order: a project's grants before the org's (each event reaches only its
    // own project's), then lower priority, earliest expiry (none last), oldest.
    held.sort_by(|a, b| order_key(a.grant).cmp(&order_key(b.grant)));
    let cuts = cuts(&grants, at);
    // Every interval's sums, read together (one statement on PostgreSQL).
    let mut windows: Vec<(Option<&str>, i64, i64)> = Vec::new();
    for (k, &start) in cuts.iter().enumerate() {
        let end = cuts.get(k + 1).map_or(at, |next| next - 1);
        windows.push((None, start, end));
        for p in projects_with_grants(&held, start) {
            windows.push((Some(p), start, end));
        }
    }
    let sums = sums(conn, org_id, metric, unit, &windows)?;
    let mut next = sums.into_iter();
    let mut overage = 0.0;
    for &start in &cuts {
        for h in held.iter_mut() {
            if resets_at(h.grant, start) {
                h.remaining = h.grant.amount + carry(h.grant, h.remaining);
            }
        }
        let all = next.next().unwrap_or(0.0);
        let mut for_org = all;
        for p in projects_with_grants_owned(&held, start) {
            let used = next.next().unwrap_or(0.0);
            for_org -= used;
            for_org += burn(&mut held, start, Some(&p), used);
        }
        overage += burn(&mut held, start, None, for_org.max(0.0));
    }
    let listed: Vec<GrantRemaining> = held
        .iter()
        .filter(|h| active_at(h.grant, at) && (h.grant.project_id.is_none() || (project.is_some() && h.grant.project_id.as_deref() == project)))
        .map(|h| GrantRemaining {
            grant_id: h.grant.grant_id.clone(),
            project_id: h.grant.project_id.clone(),
            remaining: h.remaining,
            expires_at_ms: end(h.grant),
        })
        .collect();
    Ok(Balance { balance: listed.iter().map(|g| g.remaining).sum(), overage, grants: listed, at_ms: at })
}

struct Held<'g> {
    grant: &'g CreditGrant,
    remaining: f64,
}

fn order_key(g: &CreditGrant) -> (bool, i64, i64, i64, &str) {
    (g.project_id.is_none(), g.priority, g.expires_at_ms.unwrap_or(i64::MAX), g.effective_at_ms, &g.grant_id)
}

/// When a grant stops counting: its expiry or its voiding, the first.
fn end(g: &CreditGrant) -> Option<i64> {
    match (g.expires_at_ms, g.voided_at_ms) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn active_at(g: &CreditGrant, at: i64) -> bool {
    g.effective_at_ms <= at && end(g).is_none_or(|end| at < end)
}

/// Whether a recurring grant resets at `at`: `anchor + k·period`, after its effect, while active.
fn resets_at(g: &CreditGrant, at: i64) -> bool {
    let Some(r) = g.recurrence else { return false };
    at > g.effective_at_ms && active_at(g, at) && (at - r.anchor_ms).rem_euclid(r.period_ms) == 0
}

fn carry(g: &CreditGrant, left: f64) -> f64 {
    g.rollover.map_or(0.0, |r| r.max_amount.min(r.min_amount.max(left)))
}

/// The instants up to `at` where the grants change, in order, from 0: each grant's effect
/// and end, and each reset of a recurring one.
fn cuts(grants: &[CreditGrant], at: i64) -> Vec<i64> {
    let mut cuts = vec![0];
    for g in grants {
        cuts.push(g.effective_at_ms);
        if let Some(end) = end(g) {
            cuts.push(end);
        }
        if let Some(r) = g.recurrence {
            let last = end(g).map_or(at, |end| end.min(at.saturating_add(1)) - 1);
            // The first `anchor + k·period` after the effect.
            let mut reset = r.anchor_ms + ((g.effective_at_ms - r.anchor_ms).div_euclid(r.period_ms) + 1) * r.period_ms;
            while reset <= last {
                cuts.push(reset);
                reset += r.period_ms;
            }
        }
    }
    cuts.retain(|&c| c <= at);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// The projects that have a grant of their own active at `at`, in the burn order's.
fn projects_with_grants<'g>(held: &[Held<'g>], at: i64) -> Vec<&'g str> {
    let mut projects: Vec<&str> = Vec::new();
    for h in held {
        if let Some(p) = h.grant.project_id.as_deref() {
            if active_at(h.grant, at) && !projects.contains(&p) {
                projects.push(p);
            }
        }
    }
    projects
}

fn projects_with_grants_owned(held: &[Held], at: i64) -> Vec<String> {
    projects_with_grants(held, at).into_iter().map(str::to_string).collect()
}

/// Burns `used` from the grants of `project` (the org's: `None`) active at `at`, in
/// order; returns what they could not cover.
fn burn(held: &mut [Held], at: i64, project: Option<&str>, used: f64) -> f64 {
    let mut left = used;
    for h in held.iter_mut() {
        if left <= 0.0 {
            break;
        }
        if h.grant.project_id.as_deref() != project || !active_at(h.grant, at) {
            continue;
        }
        let take = left.min(h.remaining);
        h.remaining -= take;
        left -= take;
    }
    left.max(0.0)
}

/// The usage of the account's windows `(scope, since, until)` (a project's, or all the
/// org's: `None`; both ends inclusive), in order.
fn sums(conn: &Db, org_id: &str, metric: &str, unit: &str, windows: &[(Option<&str>, i64, i64)]) -> Result<Vec<f64>> {
    match conn.dialect() {
        Dialect::Sqlite => windows
            .iter()
            .map(|&(scope, since, until)| {
                let series = Series { org_id, scope: scope.unwrap_or(ALL), metric, unit };
                rollups::total(conn, &series, since, until).map(|(sum, _)| sum)
            })
            .collect(),
        // A statement is a round trip: every window's sum in one row, by the server's
        // window function (`rollups::postgres_sum`'s), a chunk of windows at a time.
        Dialect::Postgres => {
            let mut out = Vec::with_capacity(windows.len());
            for chunk in windows.chunks(64) {
                let mut values: Vec<SqlValue> = vec![org_id.to_sql(), metric.to_sql(), unit.to_sql()];
                let mut columns = Vec::with_capacity(chunk.len());
                for (i, &(scope, since, until)) in chunk.iter().enumerate() {
                    let p = 4 + 3 * i;
                    columns.push(format!(
                        "_smithers_cp_usage_window(?1, CAST(?{p} AS TEXT), ?2, ?3, CAST(?{} AS BIGINT), CAST(?{} AS BIGINT)) AS s{i}",
                        p + 1,
                        p + 2
                    ));
                    values.push(SqlValue::Text(scope.unwrap_or(ALL)));
                    values.push(SqlValue::Int(since));
                    values.push(SqlValue::Int(until.saturating_add(1)));
                }
                let sql = format!("SELECT {}", columns.join(", "));
                let n = chunk.len();
                let row: Vec<f64> = conn.one(&sql, &values, |r| (0..n).map(|i| r.get::<Option<f64>>(i).map(|v| v.unwrap_or(0.0))).collect())?;
                out.extend(row);
            }
            Ok(out)
        }
    }
}
