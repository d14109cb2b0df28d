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

use super::{ALL, DAY, EDGE, HOUR, MILLI, MINUTE, NO_PROJECT, SECOND};

use crate::engine::Dialect;

const EVENTS: &str = "_smithers_cp_usage_events";
const ROLLUPS: &str = "_smithers_cp_usage_rollups";
const DENSE_MINUTES: &str = "_smithers_cp_usage_dense_minutes";

/// What a window's expression refers to, each an SQL expression: the org, metric and unit
/// of the usage, the series id of the window's scope (NULL when nothing of it was folded
/// yet), the scope itself (`*`, a project id, or `''` for events without one), and the
/// watermark the rollups cover.
pub(crate) struct WindowSql<'a> {
    pub org: &'a str,
    pub metric: &'a str,
    pub unit: &'a str,
    pub series: &'a str,
    pub scope: &'a str,
    pub watermark: &'a str,
    /// The SQL the expression is written in.
    pub dialect: Dialect,
}

fn ceil(x: &str, level: i64) -> String {
    format!("((({x}) + {}) / {level} * {level})", level - 1)
}

fn floor(x: &str, level: i64) -> String {
    format!("(({x}) / {level} * {level})")
}

/// The half-open ranges of whole `level` buckets in `[a, b)` below the level `parent`
/// (`None`: the coarsest level).
fn runs(d: Dialect, a: &str, b: &str, level: i64, parent: Option<i64>) -> Vec<(String, String)> {
    let (min, max) = (d.pick("min", "LEAST"), d.pick("max", "GREATEST"));
    match parent {
        None => vec![(ceil(a, level), floor(b, level))],
        Some(p) => vec![
            (ceil(a, level), format!("{min}({}, {})", ceil(a, p), floor(b, level))),
            (format!("{max}({}, {})", floor(b, p), ceil(a, p)), floor(b, level)),
        ],
    }
}

/// The two edges of `[a, b)` left over at `level`: each inside one bucket of it.
fn edges(d: Dialect, a: &str, b: &str, level: i64) -> [(String, String); 2] {
    let (min, max) = (d.pick("min", "LEAST"), d.pick("max", "GREATEST"));
    [
        (format!("({a})"), format!("{min}({}, {b})", ceil(a, level))),
        (format!("{max}({}, {})", floor(b, level), ceil(a, level)), format!("({b})")),
    ]
}

/// The sum of a column over the rows, 0.0 when there are none: SQLite's `TOTAL`.
fn total(d: Dialect, column: &str) -> String {
    match d {
        Dialect::Sqlite => format!("TOTAL({column})"),
        Dialect::Postgres => format!("COALESCE(SUM({column}), 0.0)"),
    }
}

impl WindowSql<'_> {
    /// The quantity of usage in `[a, b)`, ends given as SQL integer expressions (>= 0).
    pub(crate) fn sum(&self, a: &str, b: &str) -> String {
        let mut terms = Vec::new();
        for (level, parent) in [(DAY, None), (HOUR, Some(DAY)), (MINUTE, Some(HOUR))] {
            for (lo, hi) in runs(self.dialect, a, b, level, parent) {
                terms.push(self.buckets(level, &lo, &hi));
            }
        }
        for (from, to) in edges(self.dialect, a, b, MINUTE) {
            let fine = self.fine(&from, &to);
            let dense = format!(
                "EXISTS (SELECT 1 FROM {DENSE_MINUTES} WHERE org_id = {org} AND minute_start_ms = {minute})",
                org = self.org,
                minute = floor(&from, MINUTE)
            );
            terms.push(self.edge(MINUTE, &from, &to, &format!("CASE WHEN {dense} THEN {fine} ELSE {} END", self.raw(&from, &to))));
        }
        terms.push(self.tail(a, b));
        format!("({})", terms.join("\n + "))
    }

    /// The buckets of `level` starting in `[lo, hi)`.
    fn buckets(&self, level: i64, lo: &str, hi: &str) -> String {
        format!(
            "(SELECT {total} FROM {ROLLUPS} WHERE series = {series} AND level = {level}
               AND bucket_start_ms >= {lo} AND bucket_start_ms < {hi})",
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

    /// `[from, to)` inside one dense minute: its whole seconds and tenths, and the tenths
    /// at its two ends.
    fn fine(&self, from: &str, to: &str) -> String {
        let mut terms = Vec::new();
        for (level, parent) in [(SECOND, MINUTE), (EDGE, SECOND)] {
            for (lo, hi) in runs(self.dialect, from, to, level, Some(parent)) {
                terms.push(self.buckets(level, &lo, &hi));
            }
        }
        for (a, b) in edges(self.dialect, from, to, EDGE) {
            terms.push(self.edge(EDGE, &a, &b, &self.raw(&a, &b)));
        }
        format!("({})", terms.join(" + "))
    }

    /// The folded-in events in `[from, to)` read one by one (through the documented
    /// (org_id, observed_at_ms) index), and the millisecond sums of purged ones.
    fn raw(&self, from: &str, to: &str) -> String {
        format!(
            "((SELECT {total} FROM {EVENTS}{indexed}
                WHERE org_id = {org} AND observed_at_ms >= {from} AND observed_at_ms < {to} AND id <= {watermark}
                  AND metric = {metric} AND unit = {unit} AND {scope})
              + (SELECT {total} FROM {ROLLUPS} WHERE series = {series} AND level = {MILLI}
                   AND bucket_start_ms >= {from} AND bucket_start_ms < {to}))",
            total = total(self.dialect, "quantity"),
            indexed = self.dialect.pick(" INDEXED BY _smithers_cp_usage_org_time_idx", ""),
            org = self.org,
            watermark = self.watermark,
            metric = self.metric,
            unit = self.unit,
            scope = self.scope_filter(),
            series = self.series,
        )
    }

    /// The tail's events in `[a, b)`: above the watermark, read in id order.
    fn tail(&self, a: &str, b: &str) -> String {
        format!(
            "(SELECT {total} FROM {EVENTS}{not_indexed}
               WHERE id > {watermark} AND org_id = {org} AND metric = {metric} AND unit = {unit}
                 AND observed_at_ms >= {a} AND observed_at_ms < {b} AND {scope})",
            total = total(self.dialect, "quantity"),
            not_indexed = self.dialect.pick(" NOT INDEXED", ""),
            watermark = self.watermark,
            org = self.org,
            metric = self.metric,
            unit = self.unit,
            scope = self.scope_filter(),
        )
    }

    /// Whether an event (its `project_id`) is in the window's scope.
    fn scope_filter(&self) -> String {
        let s = self.scope;
        let is = self.dialect.pick("IS", "IS NOT DISTINCT FROM");
        format!("({s} = '{ALL}' OR project_id {is} {s} OR ({s} = '{NO_PROJECT}' AND project_id IS NULL))")
    }
}
