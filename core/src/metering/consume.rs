//! `consumeUsage`: an event weighed against its limits and recorded only if it fits them
//! all, in one write transaction (on SQLite here; on PostgreSQL in one server-side call,
//! `consume_postgres`). The limits, their checks and how an event is weighed are
//! `limits`'.

use super::credits::balance;
use super::limits::{weigh, BalanceCheck, Consumption, UsageLimit};
use super::rollups::{self, ALL};
use super::usage::NewUsage;
use crate::db::{self, Db};
use crate::engine::{Built, Dialect};
use crate::error::Result;
use crate::params;
use crate::request::{FromInput, RequestContext};
use crate::validate::Input;
use serde::Serialize;
use ts_rs::TS;
use crate::tenancy::orgs::{self, WriteKind};
use crate::validate::{period_ms, ORG_KEY};

/// `consumeUsage`: weighs the event against every limit that applies to it (its project's
/// and the org-wide ones, of every period, for its metric and unit) and records it only if
/// it fits them all. The check and the insert are one `BEGIN IMMEDIATE` transaction, so
/// concurrent callers (other processes included) can never together pass a limit.
///
/// The rule: an event at time t with a limit of period p is admitted only if the usage in
/// [t - p, t + p] plus the event fits the limit. Every window of one period that contains
/// t lies inside that range, so no window can end up over the limit: not one ending after
/// t that holds events another process committed (with a later time) while this call
/// waited for the lock, nor one that later events fill when t is in the past. For an
/// event at the present time with nothing recorded after it, this is the period ending
/// at t.
///
/// On PostgreSQL, one call of a server-side function doing the same (`consume_postgres`).
/// On SQLite, for an event recorded now with two limits, six statements: BEGIN IMMEDIATE; one read of
/// the org's state, the key's first event, the tail and every limit that applies
/// (`consume_sql`); each limit's window (one statement each, as a check reads it; the window
/// after the event too when anything lies there); the INSERT; COMMIT. Reading the limits
/// and their sums in one statement took four, but a connection without SQLite's query
/// planner stability guarantee (bun:sqlite's) prepared that statement again on every call
/// (2.5 ms a call on its handle, against about 80 µs for these six).
///
/// With `requireBalance`, the event is also weighed against the balance its scope has at
/// its time (`credits::balance`), in the same transaction: admitted only if the balance
/// covers it, the balance before and after in the result.
pub fn consume(conn: &Db, _ctx: &RequestContext, req: ConsumeUsage) -> Result<Consumption> {
    let ConsumeUsage { usage, require_balance } = req;
    if conn.dialect() == Dialect::Postgres {
        if require_balance {
            return super::consume_postgres::consume_with_balance(conn, &usage);
        }
        return super::consume_postgres::consume(conn, &usage);
    }
    let at = usage.observed_at_ms;
    db::write_org(conn, &usage.org_id, |c| {
        let mut org: Option<(String, Option<String>)> = None;
        let mut duplicate = false;
        let mut tail = (0, 0);
        let mut anything_later = false;
        let mut limits: Vec<UsageLimit> = Vec::new();
        let project_key = usage.project_id.as_deref().unwrap_or(ORG_KEY);
        c.each(
            consume_sql(),
            params![usage.org_id, usage.metric, usage.unit, at, project_key, usage.idempotency_key],
            |r| {
                // The first row: the org, the key, the tail; the others: one limit each.
                let Some(limit_org) = r.get::<Option<String>>(6)? else {
                    if let Some(status) = r.get::<Option<String>>(0)? {
                        org = Some((status, r.get(1)?));
                    }
                    duplicate = r.get::<Option<i64>>(2)?.is_some();
                    tail = (r.get(3)?, r.get(4)?);
                    anything_later = r.get::<Option<bool>>(5)?.unwrap_or(false);
                    return Ok(());
                };
                let limit = UsageLimit {
                    org_id: limit_org,
                    project_id: r.get(7)?,
                    metric: r.get(8)?,
                    unit: r.get(9)?,
                    period: r.get(10)?,
                    limit_quantity: r.get(11)?,
                    updated_at_ms: r.get(12)?,
                };
                limits.push(limit);
                Ok(())
            },
        )?;
        orgs::guard_state(&usage.org_id, org, WriteKind::Other)?;
        if duplicate {
            if let Some(original) = usage.find_duplicate(c)? {
                let balance = if require_balance { Some(BalanceCheck::repeated(balance::balance_at(c, &usage.org_id, usage.project_id.as_deref(), &usage.metric, &usage.unit, usage.observed_at_ms)?.balance)) } else { None };
                return Ok(Consumption { allowed: true, event: Some(original), checks: Vec::new(), balance });
            }
        }
        // Each limit's two windows, one statement each (the later one only when anything of
        // the org lies after the event), in this write transaction.
        let mut weighed: Vec<(UsageLimit, f64, f64)> = Vec::with_capacity(limits.len());
        for limit in limits {
            let period = period_ms(&limit.period).unwrap_or(0);
            let series = rollups::Series { org_id: &usage.org_id, scope: limit.project_id.as_deref().unwrap_or(ALL), metric: &usage.metric, unit: &usage.unit };
            // With nothing of the org after the event, the window up to it holds what the
            // window without an end holds, and that one reads fewer buckets (none on its
            // right side: the same statement, its end far off). 2^52: far enough, and every
            // bound computed from it stays exact where a handle binds it as a REAL.
            let until = if anything_later { at } else { at.max(1 << 52) };
            let used = rollups::total(c, &series, (at - period).max(0), until)?.0;
            let later = if anything_later { rollups::total(c, &series, at.saturating_add(1), at.saturating_add(period))?.0 } else { 0.0 };
            weighed.push((limit, used, later));
        }
        let (fits, checks) = weigh(&usage, weighed);
        let balance = match require_balance {
            true => {
                let w = balance::weigh_event(c, &usage)?;
                Some(BalanceCheck::weigh(w.before, w.covered, usage.quantity, |covered| fits && covered))
            }
            false => None,
        };
        let allowed = fits && balance.as_ref().is_none_or(|b| b.allowed);
        // A missing project is reported either way: by the insert's foreign key when the
        // event fits, by a lookup when it does not.
        let event = if allowed {
            let id = usage.insert(c)?;
            rollups::fold_if_crossed(c, &usage.org_id, id, id)?;
            Some(usage.event(id, usage.idempotency_key.as_ref().map(|_| false)))
        } else {
            usage.parents().check(c)?;
            None
        };
        // A tail another writer let grow long is folded now, so later reads stay short.
        rollups::fold_if_long(c, &usage.org_id, tail)?;
        Ok(Consumption { allowed, event, checks, balance })
    })
}

/// `consumeUsage`'s request: the event, and whether its balance must cover it (the
/// options' `requireBalance`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumeUsage {
    pub usage: NewUsage,
    pub require_balance: bool,
}

impl FromInput for ConsumeUsage {
    /// The request path reads the event's fields; `requireBalance` comes in the options,
    /// which the method itself reads.
    const FIELDS: &'static [&'static str] = NewUsage::FIELDS;

    fn from_input(input: &Input) -> Result<Self> {
        let usage = NewUsage::from_input(input)?;
        Ok(ConsumeUsage { usage, require_balance: input.bool_or("requireBalance", false)? })
    }
}

/// `consumeUsage`'s options.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(rename = "ControlPlaneConsumeOptions", rename_all = "camelCase", optional_fields = nullable)]
pub struct ConsumeOptions {
    /// Admit the event only if the balance of its scope at its time covers it
    /// (`getBalance`); false when missing.
    pub require_balance: Option<bool>,
}

/// `consumeUsage`'s read on SQLite: `?1` org, `?2` metric, `?3` unit, `?4` the event's time, `?5`
/// its project's limit key, `?6` its idempotency key. The first row: the org's state,
/// whether the key was seen, the tail, whether anything of the org lies after the event;
/// then one row per limit that applies. The limits stand alone in their FROM (see
/// `consume`).
fn consume_sql() -> &'static str {
    static SQL: Built = Built::new();
    SQL.get(Dialect::Sqlite, |dialect| {
        let at = "?4";
        format!(
            "SELECT (SELECT status FROM _smithers_cp_orgs WHERE org_id = ?1) AS status,
               (SELECT suspend_reason FROM _smithers_cp_orgs WHERE org_id = ?1) AS suspend_reason,
               (SELECT id FROM _smithers_cp_usage_events WHERE org_id = ?1 AND idempotency_key = ?6) AS seen,
               {tail},
               -- Whether anything of the org lies after the event (an event, or a purged
               -- event's sum): when not, as for an event recorded now, every later sum is 0.
               -- The purged sums by `series IN (...)`, not a join of the series and the
               -- rollups: inside this statement SQLite ran the join's form in 95 µs a call
               -- (on a bun:sqlite handle; 20 µs alone), this one in under 2.
               (EXISTS (SELECT 1 FROM _smithers_cp_usage_events WHERE org_id = ?1 AND observed_at_ms > {at})
                OR EXISTS (SELECT 1 FROM _smithers_cp_usage_rollups AS u
                           WHERE u.series IN (SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1)
                             AND u.level = {MILLI} AND u.bucket_start_ms > {at})) AS anything_later,
               NULL AS org_id, NULL AS project_id, NULL AS metric, NULL AS unit, NULL AS period,
               NULL AS limit_quantity, NULL AS updated_at_ms
             UNION ALL
             SELECT NULL, NULL, NULL, NULL, NULL, NULL,
               l.org_id, l.project_id, l.metric, l.unit, l.period, l.limit_quantity, l.updated_at_ms
             FROM _smithers_cp_usage_limits AS l
             WHERE l.org_id = ?1 AND l.metric = ?2 AND l.unit = ?3 AND l.project_key IN (?5, '{ORG_KEY}')",
            MILLI = rollups::MILLI,
            tail = rollups::tail_columns(dialect, "?1"),
        )
    })
}
