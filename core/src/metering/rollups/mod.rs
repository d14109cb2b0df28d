//! Usage rollups: sums of usage events per minute, hour and day, and per tenth of a second
//! and second in an org's dense minutes (more than `DENSE` events).
//!
//! Events are rolled up in batches, not one by one: the rollups cover every event up to a
//! watermark id, and the few events above it (the tail) are read raw. Ids only grow
//! (AUTOINCREMENT), so whoever inserts (this store, the documented TypeScript store, raw
//! SQL) only lengthens the tail; writers of ours fold the tail in once it reaches
//! `TAIL_MAX` events, grouping it so that events of the same bucket cost one write.
//! Deletes and updates of rolled-up events are applied by triggers in the same statement.
//! A window is answered from whole buckets, the two partial minutes at its edges (from
//! their buckets' time bounds when those settle it; else from the minute's seconds and
//! tenths if it is dense, or from its few events if not), and the tail: a bounded number
//! of rows (at most about 330 buckets for a 30-day window) however many events the window
//! holds.
//!
//! - `schema`: the rollup tables and triggers, their creation on open, the consistency
//!   check and the rebuild;
//! - `folding`: folding the tail's events into buckets, and a retention purge's events
//!   into millisecond sums;
//! - `windows`: answering a window's sum from buckets, edges and the tail (on PostgreSQL
//!   by a server-side function, `window_postgres`).

mod fold_sql;
mod folding;
mod schema;
mod window_postgres;
mod window_sql;
mod windows;

pub(crate) use fold_sql::{fold_if_crossed, fold_trigger, Kept, FOLD_OBJECTS, TAIL_MAX};
pub(crate) use folding::{catch_up, fold_if_long, fold_long_tail, forget_project, purge_usage, tail};
pub(crate) use schema::{consistent, ensure, ensure_postgres, ready_to_fold, rebuild, TRIGGERS};
pub(crate) use window_sql::{tables as window_tables, WindowSql};
pub(crate) use windows::{for_each, state, window_bounds};
pub(crate) use windows::{one_window, postgres_sum, total};

use crate::error::Result;
use crate::params;
use crate::db::Db;
use crate::request::{FromInput, RequestContext};
use crate::validate::Input;
use ts_rs::TS;

/// A tenth of a second: the finest buckets, so a window edge that splits one holds at
/// most 100 ms of events to read one by one, however dense the usage.
pub(crate) const TENTH: i64 = 100;
pub(crate) const SECOND: i64 = 1_000;
pub(crate) const MINUTE: i64 = 60_000;
pub(crate) const HOUR: i64 = 3_600_000;
pub(crate) const DAY: i64 = 86_400_000;
/// The level of the millisecond sums that stand for usage events a retention purge removed
/// (not folded from events, so not in `LEVELS`).
pub(crate) const MILLI: i64 = 1;
/// Every level, finest first.
pub(crate) const LEVELS: [i64; 5] = [TENTH, SECOND, MINUTE, HOUR, DAY];
/// The buckets a window's partial edges are read from.
const EDGE: i64 = LEVELS[0];
/// The levels kept only in an org's dense minutes, and those kept everywhere.
const FINE: [i64; 2] = [TENTH, SECOND];
const COARSE: [i64; 3] = [MINUTE, HOUR, DAY];
/// A tail this long was left by another writer (ours fold every `TAIL_MAX` ids): the
/// bulk fold takes it, when one of our reads finds it.
const LONG_TAIL: i64 = 4 * TAIL_MAX;
/// An org's minute with more events than this keeps its fine levels: below it, a window
/// edge in the minute reads at most this many events; above it, the fine buckets cost
/// less than the events they stand for would to read. At one event a second, the fine
/// levels would hold two rows per event per series.
const DENSE: i64 = 64;

fn minute_of(at: i64) -> i64 {
    at - at.rem_euclid(MINUTE)
}

/// Whether the org's minute keeps its fine levels.
fn is_dense(conn: &Db, org_id: &str, minute: i64) -> Result<bool> {
    conn.exists(
        "SELECT 1 AS dense FROM _smithers_cp_usage_dense_minutes WHERE org_id = ?1 AND minute_start_ms = ?2",
        params![org_id, minute],
    )
}

/// The scope that sums every event of an org; events without a project also count under
/// `NO_PROJECT`, events with one under their project id.
/// The usage events a tail read of one org (`org`, an SQL expression) goes through, as a
/// FROM item: the events above `after` read by id, never through the org's time index
/// (which would read every event of the org in the window and drop all but the tail's).
/// SQLite: `NOT INDEXED` leaves it the rowid. PostgreSQL: the org's events by
/// `(org_id, id)` above its watermark, fenced by `OFFSET 0` so the caller's conditions
/// stay out of that scan, and in id order, which only that index gives without a sort: a
/// plan made while the table was small (every connection keeps its first, generic, plan)
/// otherwise took the org's time index and read every event of the org (9 ms a call at
/// 700 events). A check at 1M events: 0.08 ms, against 253 ms through the time index.
/// The caller keeps its own `id > after` and `org_id` (SQLite's form has neither).
pub(crate) fn tail_events(d: crate::engine::Dialect, org: &str, after: &str) -> String {
    // A branch, not a `Both`: statements built per call (summaries, a window's tail) take
    // this, and SQLite's form should not pay for formatting PostgreSQL's.
    match d {
        crate::engine::Dialect::Sqlite => "_smithers_cp_usage_events NOT INDEXED".to_string(),
        crate::engine::Dialect::Postgres => {
            format!("(SELECT * FROM _smithers_cp_usage_events WHERE org_id = {org} AND id > {after} ORDER BY org_id, id OFFSET 0) AS tail")
        }
    }
}

/// An org's watermark on PostgreSQL (`org`, an SQL expression): its own, once its tail was
/// folded on its own, else the one of every org (`_smithers_cp_usage_mark`). A scalar
/// subquery, so a statement reads it once (an InitPlan), not once per row it compares it
/// with, and an index can take it as a bound.
pub(crate) fn postgres_mark(org: &str) -> String {
    format!("(SELECT _smithers_cp_usage_mark({org}))")
}

/// The tail as two columns, `watermark` and `max_id`, for the org `org` (an SQL
/// expression): events with ids in `(watermark, max_id]` are the tail. SQLite has one
/// watermark and one numbering for every org, so the tail is every org's. On PostgreSQL
/// it is the org's own: its watermark, and `max_id` that watermark plus the number of the
/// org's events above it (ids are numbered across orgs, so the org's highest id would
/// overstate how long its tail is).
pub(crate) fn tail_columns(d: crate::engine::Dialect, org: &str) -> String {
    crate::engine::Both {
        sqlite: "(SELECT watermark FROM _smithers_cp_usage_rollup_state WHERE id = 1) AS watermark,
               (SELECT COALESCE(MAX(id), 0) FROM _smithers_cp_usage_events) AS max_id"
            .to_string(),
        postgres: format!("{mark} AS watermark, {mark} + {length} AS max_id", mark = postgres_mark(org), length = tail_length_postgres(org)),
    }
    .pick(d)
}

/// How many events an org's tail holds on PostgreSQL (`org`, an SQL expression), as one
/// select-list expression: its events above its watermark, counted through `(org_id, id)`.
pub(crate) fn tail_length_postgres(org: &str) -> String {
    let mark = postgres_mark(org);
    format!(
        "(SELECT COUNT(*) FROM {events} WHERE id > {mark})",
        events = tail_events(crate::engine::Dialect::Postgres, org, &mark)
    )
}

pub(crate) const ALL: &str = "*";
pub(crate) const NO_PROJECT: &str = "";

/// The scope a usage event's project maps to.
fn scope_of(project_id: Option<&str>) -> &str {
    project_id.unwrap_or(NO_PROJECT)
}

/// The id of a series, if any event of it was ever folded in.
fn series_id(conn: &Db, series: &Series) -> Result<Option<i64>> {
    conn.row(
        "SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1 AND scope = ?2 AND metric = ?3 AND unit = ?4",
        params![series.org_id, series.scope, series.metric, series.unit],
        |r| r.get(0),
    )
}

/// `checkRollups`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneCheckRollupsInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct CheckRollups {
    /// Rebuild the rollups when they disagree with the raw events; `true` when missing.
    #[ts(as = "Option<bool>")]
    pub repair: bool,
}

impl FromInput for CheckRollups {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(CheckRollups { repair: input.bool_or("repair", true)? })
    }
}

/// What `checkRollups` found and did.
#[derive(Debug, serde::Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneRollupCheck")]
pub struct RollupCheck {
    /// The day-level totals of every org, metric and unit equal the raw events'.
    pub consistent: bool,
    /// The rollups were rebuilt from the raw events.
    pub repaired: bool,
}

/// `checkRollups({repair?})`: folds the tail in, compares the rollups with the raw events
/// (a pass over every event), and rebuilds them when they disagree, unless `repair` is
/// `false`. In one write transaction.
pub fn check(conn: &Db, _ctx: &RequestContext, req: CheckRollups) -> Result<RollupCheck> {
    let CheckRollups { repair } = req;
    crate::db::write(conn, |c| {
        catch_up(c)?;
        let consistent = consistent(c)?;
        let repaired = !consistent && repair;
        if repaired {
            rebuild(c)?;
        }
        Ok(RollupCheck { consistent, repaired })
    })
}

/// One series of usage: which org, scope, metric and unit.
pub(crate) struct Series<'a> {
    pub(crate) org_id: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) metric: &'a str,
    pub(crate) unit: &'a str,
}
