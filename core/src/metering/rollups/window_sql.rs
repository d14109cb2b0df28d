//! A window's sum as one SQL expression, so a check reads its limit and its usage in one
//! statement (one statement reads one snapshot: no transaction needed around it).
//!
//! The expression is the same decomposition `windows` makes in Rust, written with the
//! window's ends as SQL values: whole buckets of the coarsest levels that fit, the two
//! partial minutes at the edges taken from their minute's bucket when its time bounds
//! settle it, else from the minute's seconds and tenths (a dense minute) or its events
//! (a sparse one), and the tail's events. Every bound is computed in SQL from the ends,
//! so the text is one per statement, not one per window's shape.
//!
//! For a half-open window `[a, b)` and a level `X` whose next coarser level is `P`, the
//! whole `X` buckets are `[ceil_X(a), min(ceil_P(a), floor_X(b)))` on the left and
//! `[max(floor_P(b), ceil_P(a)), floor_X(b))` on the right; at the coarsest level,
//! `[ceil(a), floor(b))`. Where a level does not fit, both ranges come out empty; where
//! it is the coarsest that fits, they split its one run in two. What is left at the edges
//! is `[a, min(ceil(a), b))` and `[max(floor(b), ceil(a)), b)`, each inside one bucket of
//! the finest level used.
//!
//! The bounds are columns, each written once (`bounds`, `edge_bounds`: two layers of a
//! query's FROM), and the sum refers to them by name: the statement's text stays a few
//! kilobytes, which matters because every engine finds its prepared statement by its text.

use crate::engine::Both;
use super::{ALL, DAY, EDGE, HOUR, MILLI, MINUTE, NO_PROJECT, SECOND};

use crate::engine::Dialect;

/// Short names for the tables a window's sum reads, defined by `TABLES` in the statement's
/// WITH clause: the sum names them dozens of times.
const EVENTS: &str = "ev";
const ROLLUPS: &str = "ru";
const DENSE_MINUTES: &str = "dm";

/// The WITH clause's definitions of the short names (plain views of the tables, which
/// SQLite flattens: the lookups use the tables' keys and indexes as before).
pub(crate) const TABLES: &str = "ev AS (SELECT * FROM _smithers_cp_usage_events),
  ru AS (SELECT * FROM _smithers_cp_usage_rollups),
  dm AS (SELECT * FROM _smithers_cp_usage_dense_minutes)";

/// `TABLES` in PostgreSQL's form: the sum names each table many times, and PostgreSQL
/// materializes a CTE referenced more than once unless told `NOT MATERIALIZED` (then it
/// inlines it, and the lookups use the tables' indexes).
const TABLES_POSTGRES: &str = "ev AS NOT MATERIALIZED (SELECT * FROM _smithers_cp_usage_events),
  ru AS NOT MATERIALIZED (SELECT * FROM _smithers_cp_usage_rollups),
  dm AS NOT MATERIALIZED (SELECT * FROM _smithers_cp_usage_dense_minutes)";

/// `TABLES` in the dialect `d`.
pub(crate) fn tables(d: Dialect) -> &'static str {
    Both { sqlite: TABLES, postgres: TABLES_POSTGRES }.pick(d)
}

// With `%`, not `/`: a caller's handle may bind a JavaScript number as REAL (better-sqlite3
// does), and `/` of a REAL does not truncate; `%` casts its operands to INTEGER first.
fn ceil(x: &str, level: i64) -> String {
    format!("(({x}) + {m} - ((({x}) + {m}) % {level}))", m = level - 1)
}

fn floor(x: &str, level: i64) -> String {
    format!("(({x}) - (({x}) % {level}))")
}

/// The ranges of whole `level` buckets in `[a, b)` below the level `parent` (`None`: the
/// coarsest level), as (name, low, high).
fn runs(d: Dialect, name: &str, a: &str, b: &str, level: i64, parent: Option<i64>) -> Vec<(String, String, String)> {
    let (min, max) = (Both { sqlite: "min", postgres: "LEAST" }.pick(d), Both { sqlite: "max", postgres: "GREATEST" }.pick(d));
    match parent {
        None => vec![(name.to_string(), ceil(a, level), floor(b, level))],
        Some(p) => vec![
            (format!("{name}1"), ceil(a, level), format!("{min}({}, {})", ceil(a, p), floor(b, level))),
            (format!("{name}2"), format!("{max}({}, {})", floor(b, p), ceil(a, p)), floor(b, level)),
        ],
    }
}

/// The two edges of `[a, b)` left over at `level`: each inside one bucket of it.
fn edges(d: Dialect, a: &str, b: &str, level: i64) -> [(String, String); 2] {
    let (min, max) = (Both { sqlite: "min", postgres: "LEAST" }.pick(d), Both { sqlite: "max", postgres: "GREATEST" }.pick(d));
    [
        (format!("({a})"), format!("{min}({}, {b})", ceil(a, level))),
        (format!("{max}({}, {})", floor(b, level), ceil(a, level)), format!("({b})")),
    ]
}

/// The coarse runs (days, hours, minutes) and the two edge minutes of the window
/// `[a, b)`, as the select list of a query over a row holding `a` and `b`; columns named
/// with the prefix `p`.
pub(crate) fn bounds(d: Dialect, p: &str, a: &str, b: &str) -> String {
    let mut columns = Vec::new();
    for (name, level, parent) in [("d", DAY, None), ("h", HOUR, Some(DAY)), ("m", MINUTE, Some(HOUR))] {
        for (name, lo, hi) in runs(d, name, a, b, level, parent) {
            columns.push(format!("{lo} AS {p}{name}_lo, {hi} AS {p}{name}_hi"));
        }
    }
    for (k, (from, to)) in edges(d, a, b, MINUTE).iter().enumerate() {
        columns.push(format!("{from} AS {p}e{k}_from, {to} AS {p}e{k}_to"));
    }
    columns.join(",\n")
}

/// Inside each edge minute of `bounds`' columns (in the row `r`): its whole seconds and
/// tenths and its two edge tenths, as a select list; columns named with the prefix `p`.
pub(crate) fn edge_bounds(d: Dialect, p: &str, r: &str) -> String {
    let mut columns = Vec::new();
    for k in 0..2 {
        let (from, to) = (format!("{r}.{p}e{k}_from"), format!("{r}.{p}e{k}_to"));
        for (name, level, parent) in [("s", SECOND, MINUTE), ("t", EDGE, SECOND)] {
            for (name, lo, hi) in runs(d, name, &from, &to, level, Some(parent)) {
                columns.push(format!("{lo} AS {p}e{k}{name}_lo, {hi} AS {p}e{k}{name}_hi"));
            }
        }
        for (j, (a, b)) in edges(d, &from, &to, EDGE).iter().enumerate() {
            columns.push(format!("{a} AS {p}e{k}x{j}_from, {b} AS {p}e{k}x{j}_to"));
        }
    }
    columns.join(",\n")
}

/// What a window's expression refers to, each an SQL expression: the org, metric and unit
/// of the usage, the series id of the window's scope (NULL when nothing of it was folded
/// yet), the scope itself (`*`, a project id, or `''` for events without one), the
/// watermark the rollups cover, and the window's bounds: the columns of `bounds` and
/// `edge_bounds`, as `{at}name` (`at` is the row and prefix, such as `w.u_`), its ends as
/// `a` and `b`.
pub(crate) struct WindowSql<'a> {
    pub org: &'a str,
    pub metric: &'a str,
    pub unit: &'a str,
    pub series: &'a str,
    pub scope: &'a str,
    pub watermark: &'a str,
    pub at: &'a str,
    pub a: &'a str,
    pub b: &'a str,
    /// The SQL the expression is written in.
    pub dialect: Dialect,
}

/// The sum of a column over the rows, 0.0 when there are none: SQLite's `TOTAL`.
fn total(d: Dialect, column: &str) -> String {
    Both { sqlite: format!("TOTAL({column})"), postgres: format!("COALESCE(SUM({column}), 0.0)") }.pick(d)
}

impl WindowSql<'_> {
    /// The quantity of usage in the window.
    pub(crate) fn sum(&self) -> String {
        let at = self.at;
        let mut terms = vec![self.buckets(DAY, &format!("{at}d"))];
        for (name, level) in [("h", HOUR), ("m", MINUTE)] {
            for k in 1..=2 {
                terms.push(self.buckets(level, &format!("{at}{name}{k}")));
            }
        }
        for k in 0..2 {
            let (from, to) = (format!("{at}e{k}_from"), format!("{at}e{k}_to"));
            let dense = format!(
                "EXISTS (SELECT 1 FROM {DENSE_MINUTES} WHERE org_id = {org} AND minute_start_ms = {minute})",
                org = self.org,
                minute = floor(&from, MINUTE)
            );
            let split = format!("CASE WHEN {dense} THEN {} ELSE {} END", self.fine(k), self.raw(&from, &to));
            terms.push(self.edge(MINUTE, &from, &to, &split));
        }
        terms.push(self.tail());
        format!("({})", terms.join("\n + "))
    }

    /// The buckets of `level` starting in `[{range}_lo, {range}_hi)`.
    fn buckets(&self, level: i64, range: &str) -> String {
        format!(
            "(SELECT {total} FROM {ROLLUPS} WHERE series = {series} AND level = {level}
               AND bucket_start_ms >= {range}_lo AND bucket_start_ms < {range}_hi)",
            series = self.series,
            total = total(self.dialect, "quantity"),
        )
    }

    /// The part `[from, to)` of the `level` bucket holding `from`: none, the whole bucket,
    /// or (when the range falls between its events) `split`.
    fn edge(&self, level: i64, from: &str, to: &str, split: &str) -> String {
        format!(
            "COALESCE((SELECT CASE WHEN u.max_at_ms < {from} OR u.min_at_ms >= {to} THEN 0.0
                                 WHEN u.min_at_ms >= {from} AND u.max_at_ms < {to} THEN u.quantity
                                 ELSE {split} END
                       FROM {ROLLUPS} AS u WHERE u.series = {series} AND u.level = {level}
                         AND u.bucket_start_ms = {slot} AND {from} < {to}), 0.0)",
            series = self.series,
            slot = floor(from, level)
        )
    }

    /// Edge `k` inside its dense minute: its whole seconds and tenths, and the tenths at its
    /// two ends.
    fn fine(&self, k: usize) -> String {
        let at = self.at;
        let mut terms = Vec::new();
        for (name, level) in [("s", SECOND), ("t", EDGE)] {
            for j in 1..=2 {
                terms.push(self.buckets(level, &format!("{at}e{k}{name}{j}")));
            }
        }
        for j in 0..2 {
            let (from, to) = (format!("{at}e{k}x{j}_from"), format!("{at}e{k}x{j}_to"));
            terms.push(self.edge(EDGE, &from, &to, &self.raw(&from, &to)));
        }
        format!("({})", terms.join(" + "))
    }

    /// The folded-in events in `[from, to)` read one by one (through the documented
    /// (org_id, observed_at_ms) index), and the millisecond sums of purged ones.
    fn raw(&self, from: &str, to: &str) -> String {
        format!(
            "((SELECT {total} FROM {EVENTS}
                WHERE org_id = {org} AND observed_at_ms >= {from} AND observed_at_ms < {to} AND id <= {watermark}
                  AND metric = {metric} AND unit = {unit} AND {scope})
              + (SELECT {total} FROM {ROLLUPS} WHERE series = {series} AND level = {MILLI}
                   AND bucket_start_ms >= {from} AND bucket_start_ms < {to}))",
            total = total(self.dialect, "quantity"),
            org = self.org,
            watermark = self.watermark,
            metric = self.metric,
            unit = self.unit,
            scope = self.scope_filter(),
            series = self.series,
        )
    }

    /// The tail's events in the window: above the watermark, read by id (`tail_events`).
    fn tail(&self) -> String {
        let events = super::tail_events(self.dialect, self.org, self.watermark);
        format!(
            "(SELECT {total} FROM {events}
               WHERE id > {watermark} AND org_id = {org} AND metric = {metric} AND unit = {unit}
                 AND observed_at_ms >= {a} AND observed_at_ms < {b} AND {scope})",
            watermark = self.watermark,
            org = self.org,
            metric = self.metric,
            unit = self.unit,
            a = self.a,
            b = self.b,
            scope = self.scope_filter(),
            total = total(self.dialect, "quantity"),
        )
    }

    /// Whether an event (its `project_id`) is in the window's scope.
    fn scope_filter(&self) -> String {
        let s = self.scope;
        let is = Both { sqlite: "IS", postgres: "IS NOT DISTINCT FROM" }.pick(self.dialect);
        format!("({s} = '{ALL}' OR project_id {is} {s} OR ({s} = '{NO_PROJECT}' AND project_id IS NULL))")
    }
}
