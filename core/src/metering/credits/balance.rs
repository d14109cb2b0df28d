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
use crate::metering::usage::NewUsage;
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

/// `getBalance`: the balance at `atMs`, in one snapshot. A balance that had to read many
/// intervals (no ledger yet, or one left far behind) keeps a ledger for the next, in a
/// write of its own afterwards: upkeep, whose failure (a lock not had in time) is not the
/// call's.
pub fn get(conn: &Db, _ctx: &RequestContext, req: GetBalance) -> Result<Balance> {
    let (balance, intervals) = db::read(conn, |c| {
        crate::tenancy::orgs::guard(c, &req.org_id, crate::tenancy::orgs::WriteKind::Other)?;
        balance_reading(c, &req.org_id, req.project_id.as_deref(), &req.metric, &req.unit, req.at_ms)
    })?;
    if intervals > KEEP_LEDGER_AFTER {
        let _ = db::write_org(conn, &req.org_id, |c| keep_ledger(c, &req.org_id, &req.metric, &req.unit, req.at_ms));
    }
    Ok(balance)
}

/// How many intervals a read may cross before `getBalance` keeps a ledger.
const KEEP_LEDGER_AFTER: usize = 8;

/// The balance of `project` (the org's: `None`) at `at`, inside the caller's transaction.
pub(crate) fn balance_at(conn: &Db, org_id: &str, project: Option<&str>, metric: &str, unit: &str, at: i64) -> Result<Balance> {
    Ok(balance_reading(conn, org_id, project, metric, unit, at)?.0)
}

/// `balance_at`, and how many intervals it read.
fn balance_reading(conn: &Db, org_id: &str, project: Option<&str>, metric: &str, unit: &str, at: i64) -> Result<(Balance, usize)> {
    let grants = grants::of_account(conn, org_id, metric, unit)?;
    let ledger = Ledger::read(conn, org_id, metric, unit, &grants)?.filter(|l| l.at_ms <= at);
    let account = Account::read(conn, org_id, metric, unit, &grants, ledger, at, None)?;
    let (overage, held) = account.run(None, at);
    let listed = listed(&held, project, at);
    let balance = Balance { balance: total(&listed), overage, grants: listed, at_ms: at };
    Ok((balance, account.cuts.len()))
}

/// Keeps the account's ledger at its last cut up to `end`, in the caller's write.
fn keep_ledger(conn: &Db, org_id: &str, metric: &str, unit: &str, end: i64) -> Result<()> {
    let grants = grants::of_account(conn, org_id, metric, unit)?;
    let ledger = Ledger::read(conn, org_id, metric, unit, &grants)?;
    let known = ledger.as_ref().map(|l| l.at_ms);
    let account = Account::read(conn, org_id, metric, unit, &grants, ledger.filter(|l| l.at_ms <= end), end, None)?;
    let mut keeper = Keeper::at_last_cut(&account, None);
    account.run_with(None, end, |next_start, held, overage| keeper.see(next_start, held, overage));
    keeper.write(conn, org_id, metric, unit, known)
}

/// The state a run passes at the account's last cut (but `skip`), to keep as the ledger.
struct Keeper {
    cut: Option<i64>,
    state: Option<Ledger>,
}

impl Keeper {
    fn at_last_cut(account: &Account, skip: Option<i64>) -> Keeper {
        let first = account.cuts[0];
        Keeper { cut: account.cuts.iter().rev().copied().find(|&c| Some(c) != skip && c > first), state: None }
    }

    /// `run_with`'s `between`.
    fn see(&mut self, next_start: i64, held: &[Held], overage: f64) {
        if Some(next_start) == self.cut {
            self.state = Some(Ledger::of(next_start, held, overage));
        }
    }

    /// Writes the state seen when it is later than the ledger the run started from (`known`).
    fn write(self, conn: &Db, org_id: &str, metric: &str, unit: &str, known: Option<i64>) -> Result<()> {
        match self.state.filter(|l| Some(l.at_ms) > known) {
            Some(ledger) => ledger.write(conn, org_id, metric, unit),
            None => Ok(()),
        }
    }
}

/// An event weighed against the balance (`consumeUsage` with `requireBalance`).
pub(crate) struct Weighed {
    /// The balance of the event's scope at its time, without it.
    pub before: f64,
    /// Whether the grants cover it without leaving any usage uncovered that they covered
    /// before: at its time, and at every later instant up to the org's latest event.
    pub covered: bool,
}

/// A usage event weighed against its scope's balance at its time (`weigh`).
pub(crate) fn weigh_event(conn: &Db, usage: &NewUsage) -> Result<Weighed> {
    weigh(conn, &usage.org_id, usage.project_id.as_deref(), &usage.metric, &usage.unit, usage.observed_at_ms, usage.quantity)
}

/// Weighs an event of `quantity` at `at` against the balance of `project`.
///
/// Covered at its own time is not enough: an event at `at` burns before events already
/// recorded after `at` (another process's, with a later clock, committed first), and
/// could leave those uncovered. So the account is run twice up to its latest event, with
/// and without this one, on the same sums: the event is covered only if it adds no
/// overage anywhere.
pub(crate) fn weigh(conn: &Db, org_id: &str, project: Option<&str>, metric: &str, unit: &str, at: i64, quantity: f64) -> Result<Weighed> {
    let latest: Option<i64> =
        conn.one("SELECT MAX(observed_at_ms) AS latest FROM _smithers_cp_usage_events WHERE org_id = ?1", crate::params![org_id], |r| r.get(0))?;
    let end = latest.unwrap_or(at).max(at);
    let grants = grants::of_account(conn, org_id, metric, unit)?;
    let ledger = Ledger::read(conn, org_id, metric, unit, &grants)?;
    let known = ledger.as_ref().map(|l| l.at_ms);
    // An interval ends at the event's time, so the balance then can be read on the way.
    let account = Account::read(conn, org_id, metric, unit, &grants, ledger.filter(|l| l.at_ms <= at), end, Some(at.saturating_add(1)))?;
    let mut before = 0.0;
    // The state at the last cut up to `end` (not the event's own) is kept as the ledger.
    let mut keeper = Keeper::at_last_cut(&account, Some(at.saturating_add(1)));
    let (without, held) = account.run_with(None, end, |next_start, held, overage| {
        if next_start == at.saturating_add(1) {
            before = total(&listed(held, project, at));
        }
        keeper.see(next_start, held, overage);
    });
    keeper.write(conn, org_id, metric, unit, known)?;
    // Nothing after the event: the run ended at it.
    if end == at {
        before = total(&listed(&held, project, at));
    }
    let (with, _) = account.run(Some((project, at, quantity)), end);
    // The two runs differ only in this event's quantity; a tolerance for the sums' rounding.
    let covered = quantity <= before && with - without <= 1e-9 * (1.0 + quantity.abs());
    Ok(Weighed { before, covered })
}

/// The grants a scope may draw on that are active at `at`, in the burn order.
fn listed(held: &[Held], project: Option<&str>, at: i64) -> Vec<GrantRemaining> {
    held.iter()
        .filter(|h| active_at(h.grant, at) && (h.grant.project_id.is_none() || (project.is_some() && h.grant.project_id.as_deref() == project)))
        .map(|h| GrantRemaining { grant_id: h.grant.grant_id.clone(), project_id: h.grant.project_id.clone(), remaining: h.remaining, expires_at_ms: end(h.grant) })
        .collect()
}

/// What the grants listed hold together.
fn total(listed: &[GrantRemaining]) -> f64 {
    listed.iter().fold(0.0, |sum, g| sum + g.remaining)
}

/// An account's grants, the instants where they change up to `end`, and the usage of each
/// interval between them: all of it (`None`), and each project's that has grants of its
/// own active in it.
struct Account<'g> {
    grants: &'g [CreditGrant],
    cuts: Vec<i64>,
    /// Per interval: the org's whole sum, then one per project of `projects_with_grants`.
    sums: Vec<f64>,
    /// Where the run starts from, when not from the beginning.
    start: Option<Ledger>,
}

/// An account's state at a cut (`schema::SQLITE_LEDGER`): every grant's remaining and the
/// overage after every event before `at_ms`, before the resets at `at_ms`.
#[derive(Debug, Clone, PartialEq)]
struct Ledger {
    at_ms: i64,
    remaining: Vec<(String, f64)>,
    overage: f64,
}

impl Ledger {
    fn of(at_ms: i64, held: &[Held], overage: f64) -> Ledger {
        Ledger { at_ms, remaining: held.iter().map(|h| (h.grant.grant_id.clone(), h.remaining)).collect(), overage }
    }

    /// The account's ledger, if it has one for exactly these grants (any change of them
    /// removes it; one that names another grant is not used).
    fn read(conn: &Db, org_id: &str, metric: &str, unit: &str, grants: &[CreditGrant]) -> Result<Option<Ledger>> {
        let row: Option<(i64, String)> = conn.row(
            "SELECT at_ms, state_json FROM _smithers_cp_credit_ledger WHERE org_id = ?1 AND metric = ?2 AND unit = ?3",
            crate::params![org_id, metric, unit],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let Some((at_ms, text)) = row else { return Ok(None) };
        let Ok(state) = serde_json::from_str::<serde_json::Value>(&text) else { return Ok(None) };
        let overage = state.get("overage").and_then(serde_json::Value::as_f64);
        let remaining: Option<Vec<(String, f64)>> = state.get("remaining").and_then(|r| r.as_object()).map(|m| {
            m.iter().filter_map(|(id, v)| v.as_f64().map(|r| (id.clone(), r))).collect()
        });
        match (overage, remaining) {
            (Some(overage), Some(remaining))
                if remaining.len() == grants.len() && grants.iter().all(|g| remaining.iter().any(|(id, _)| *id == g.grant_id)) =>
            {
                Ok(Some(Ledger { at_ms, remaining, overage }))
            }
            _ => Ok(None),
        }
    }

    fn write(&self, conn: &Db, org_id: &str, metric: &str, unit: &str) -> Result<()> {
        let remaining: serde_json::Map<String, serde_json::Value> =
            self.remaining.iter().map(|(id, r)| (id.clone(), serde_json::json!(r))).collect();
        let state = serde_json::json!({ "overage": self.overage, "remaining": remaining }).to_string();
        conn.execute(
            "INSERT INTO _smithers_cp_credit_ledger (org_id, metric, unit, at_ms, state_json) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (org_id, metric, unit) DO UPDATE SET at_ms = excluded.at_ms, state_json = excluded.state_json",
            crate::params![org_id, metric, unit, self.at_ms, state],
        )?;
        Ok(())
    }
}

/// Forgets an account's ledger: its grants changed.
pub(crate) fn forget(conn: &Db, org_id: &str, metric: &str, unit: &str) -> Result<()> {
    conn.execute("DELETE FROM _smithers_cp_credit_ledger WHERE org_id = ?1 AND metric = ?2 AND unit = ?3", crate::params![org_id, metric, unit])?;
    Ok(())
}

impl<'g> Account<'g> {
    /// From `ledger`'s cut when given (its state the start), from the beginning otherwise.
    #[allow(clippy::too_many_arguments)]
    fn read(
        conn: &Db,
        org_id: &str,
        metric: &str,
        unit: &str,
        grants: &'g [CreditGrant],
        ledger: Option<Ledger>,
        end: i64,
        extra_cut: Option<i64>,
    ) -> Result<Account<'g>> {
        let mut cuts = cuts(grants, end);
        if let Some(l) = &ledger {
            cuts.retain(|&c| c > l.at_ms);
            cuts.insert(0, l.at_ms);
        }
        if let Some(cut) = extra_cut.filter(|&c| c <= end) {
            if let Err(i) = cuts.binary_search(&cut) {
                cuts.insert(i, cut);
            }
        }
        let held = held(grants);
        // Every interval's sums, read together (one statement on PostgreSQL).
        let mut windows: Vec<(Option<&str>, i64, i64)> = Vec::new();
        for (k, &start) in cuts.iter().enumerate() {
            let until = cuts.get(k + 1).map_or(end, |next| next - 1);
            windows.push((None, start, until));
            for p in projects_with_grants(&held, start) {
                windows.push((Some(p), start, until));
            }
        }
        let sums = sums(conn, org_id, metric, unit, &windows)?;
        Ok(Account { grants, cuts, sums, start: ledger })
    }

    fn run(&self, extra: Option<(Option<&str>, i64, f64)>, end: i64) -> (f64, Vec<Held<'g>>) {
        self.run_with(extra, end, |_, _, _| {})
    }

    /// Burns every interval up to `end` in order (with `extra`, one more event: its scope,
    /// time and quantity); the overage, and the grants as they stand at the end.
    /// `between(next_start, held, overage)` sees the grants after each interval.
    fn run_with(&self, extra: Option<(Option<&str>, i64, f64)>, end: i64, mut between: impl FnMut(i64, &[Held<'g>], f64)) -> (f64, Vec<Held<'g>>) {
        let mut held = held(self.grants);
        let mut overage = 0.0;
        if let Some(ledger) = &self.start {
            for h in held.iter_mut() {
                h.remaining = ledger.remaining.iter().find(|(id, _)| *id == h.grant.grant_id).map_or(h.grant.amount, |(_, r)| *r);
            }
            overage = ledger.overage;
        }
        let mut next = self.sums.iter().copied();
        for (k, &start) in self.cuts.iter().enumerate() {
            let until = self.cuts.get(k + 1).map_or(end, |next| next - 1);
            for h in held.iter_mut() {
                if resets_at(h.grant, start) {
                    h.remaining = h.grant.amount + carry(h.grant, h.remaining);
                }
            }
            let added = extra.filter(|&(_, at, _)| start <= at && at <= until);
            let mut for_org = next.next().unwrap_or(0.0) + added.map_or(0.0, |(_, _, q)| q);
            // The projects' names borrow from the grants, not from `held`.
            for p in projects_with_grants(&held, start) {
                let mut used = next.next().unwrap_or(0.0);
                if let Some((Some(project), _, q)) = added {
                    if project == p {
                        used += q;
                    }
                }
                for_org -= used;
                for_org += burn(&mut held, start, Some(p), used);
            }
            overage += burn(&mut held, start, None, for_org.max(0.0));
            if let Some(&next_start) = self.cuts.get(k + 1) {
                between(next_start, &held, overage);
            }
        }
        (overage, held)
    }
}

/// The grants in the burn order, each with its amount: a project's grants before the
/// org's (each event reaches only its own project's), then lower priority, earliest
/// expiry (none last), oldest.
fn held(grants: &[CreditGrant]) -> Vec<Held<'_>> {
    let mut held: Vec<Held> = grants.iter().map(|g| Held { grant: g, remaining: g.amount }).collect();
    held.sort_by(|a, b| order_key(a.grant).cmp(&order_key(b.grant)));
    held
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
