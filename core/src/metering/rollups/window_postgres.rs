//! A window's sum on PostgreSQL: the server-side function `_smithers_cp_usage_window`.
//!
//! `window_sql` writes a window's sum as one SQL expression, every piece of it always
//! there (about sixty subqueries), which SQLite runs in microseconds. PostgreSQL starts and
//! ends each of those subqueries on every call: 1.0 ms of the server's time for a window
//! with nothing in it, twice per `consumeUsage` with two limits. The same decomposition
//! in plpgsql runs only the pieces the window has: the whole buckets of each level (an
//! index range each, skipped when empty), the two edge minutes (one bucket read each,
//! and, only when the window cuts between a minute's events, its seconds and tenths if the
//! minute is dense, else its events), and the tail.
//!
//! The bounds are `window_sql`'s: for a level `X` under `P`, the whole `X` buckets are
//! `[ceil_X(a), min(ceil_P(a), floor_X(b)))` and `[max(floor_P(b), ceil_P(a)), floor_X(b))`,
//! the coarsest `[ceil(a), floor(b))`, and the edges left at `X` are
//! `[a, min(ceil_X(a), b))` and `[max(floor_X(b), ceil_X(a)), b)`. The functions are
//! STABLE: called from a statement, they read its snapshot.

use super::{ALL, DAY, EDGE, HOUR, MILLI, MINUTE, NO_PROJECT, SECOND};

fn ceil(x: &str, level: i64) -> String {
    format!("(({x}) + {m} - ((({x}) + {m}) % {level}))", m = level - 1)
}

fn floor(x: &str, level: i64) -> String {
    format!("(({x}) - (({x}) % {level}))")
}

/// The whole `level` buckets in `[a, b)` below `parent` (`None`: the coarsest), as the
/// sum of their quantities added to `q`, each range read only when it is not empty.
fn runs(a: &str, b: &str, level: i64, parent: Option<i64>) -> String {
    let ranges = match parent {
        None => vec![(ceil(a, level), floor(b, level))],
        Some(p) => vec![
            (ceil(a, level), format!("LEAST({}, {})", ceil(a, p), floor(b, level))),
            (format!("GREATEST({}, {})", floor(b, p), ceil(a, p)), floor(b, level)),
        ],
    };
    ranges
        .into_iter()
        .map(|(lo, hi)| {
            format!(
                "lo := {lo}; hi := {hi};
           IF lo < hi THEN
             q := q + (SELECT COALESCE(SUM(r.quantity), 0.0) FROM _smithers_cp_usage_rollups AS r
                       WHERE r.series = p_series AND r.level = {level} AND r.bucket_start_ms >= lo AND r.bucket_start_ms < hi);
           END IF;"
            )
        })
        .collect::<Vec<_>>()
        .join("\n           ")
}

/// The edges of `[a, b)` left at `level`, each as `_smithers_cp_usage_part` of it.
fn edges(a: &str, b: &str, level: i64, args: &str) -> String {
    [
        (a.to_string(), format!("LEAST({}, {b})", ceil(a, level))),
        (format!("GREATEST({}, {})", floor(b, level), ceil(a, level)), b.to_string()),
    ]
    .into_iter()
    .map(|(from, to)| format!("q := q + _smithers_cp_usage_part({args}, {from}, {to}, {level});"))
    .collect::<Vec<_>>()
    .join("\n           ")
}

/// The functions: `_smithers_cp_usage_window(org, scope, metric, unit, a, b)`, the sum of
/// `[a, b)`; `_smithers_cp_usage_part(...)`, what of one bucket's span `[from, to)` is in
/// the window; `_smithers_cp_usage_raw(...)`, the folded events of a span read one by one,
/// with the millisecond sums of purged ones.
pub(crate) fn functions() -> String {
    let args = "p_org, p_series, p_scope, p_metric, p_unit, p_mark";
    let scope = format!(
        "(p_scope = '{ALL}' OR e.project_id IS NOT DISTINCT FROM p_scope OR (p_scope = '{NO_PROJECT}' AND e.project_id IS NULL))"
    );
    format!(
        "DROP FUNCTION IF EXISTS _smithers_cp_usage_window(TEXT, TEXT, TEXT, TEXT, BIGINT, BIGINT);
         CREATE OR REPLACE FUNCTION _smithers_cp_usage_raw(
           p_org TEXT, p_series BIGINT, p_scope TEXT, p_metric TEXT, p_unit TEXT, p_mark BIGINT, p_from BIGINT, p_to BIGINT)
           RETURNS DOUBLE PRECISION LANGUAGE plpgsql STABLE AS $raw$
         BEGIN
           RETURN (SELECT COALESCE(SUM(e.quantity), 0.0) FROM _smithers_cp_usage_events AS e
                   WHERE e.org_id = p_org AND e.observed_at_ms >= p_from AND e.observed_at_ms < p_to AND e.id <= p_mark
                     AND e.metric = p_metric AND e.unit = p_unit AND {scope})
             + (SELECT COALESCE(SUM(r.quantity), 0.0) FROM _smithers_cp_usage_rollups AS r
                WHERE r.series = p_series AND r.level = {MILLI} AND r.bucket_start_ms >= p_from AND r.bucket_start_ms < p_to);
         END $raw$;

         CREATE OR REPLACE FUNCTION _smithers_cp_usage_part(
           p_org TEXT, p_series BIGINT, p_scope TEXT, p_metric TEXT, p_unit TEXT, p_mark BIGINT, p_from BIGINT, p_to BIGINT,
           p_level BIGINT)
           RETURNS DOUBLE PRECISION LANGUAGE plpgsql STABLE AS $part$
         DECLARE
           u RECORD;
           q DOUBLE PRECISION := 0.0;
           lo BIGINT;
           hi BIGINT;
         BEGIN
           IF p_from >= p_to THEN
             RETURN 0.0;
           END IF;
           SELECT r.quantity, r.min_at_ms, r.max_at_ms INTO u FROM _smithers_cp_usage_rollups AS r
           WHERE r.series = p_series AND r.level = p_level AND r.bucket_start_ms = p_from - p_from % p_level;
           IF NOT FOUND OR u.max_at_ms < p_from OR u.min_at_ms >= p_to THEN
             RETURN 0.0;
           END IF;
           IF u.min_at_ms >= p_from AND u.max_at_ms < p_to THEN
             RETURN u.quantity;
           END IF;
           -- The span cuts between the bucket's events: a dense minute's seconds and
           -- tenths, else the events themselves.
           IF p_level = {MINUTE} AND EXISTS (SELECT 1 FROM _smithers_cp_usage_dense_minutes AS d
                                             WHERE d.org_id = p_org AND d.minute_start_ms = p_from - p_from % {MINUTE}) THEN
             {seconds}
             {tenths}
             {tenth_edges}
             RETURN q;
           END IF;
           RETURN _smithers_cp_usage_raw({args}, p_from, p_to);
         END $part$;

         CREATE OR REPLACE FUNCTION _smithers_cp_usage_window(
           p_org TEXT, p_scope TEXT, p_metric TEXT, p_unit TEXT, a BIGINT, b BIGINT)
           RETURNS DOUBLE PRECISION LANGUAGE plpgsql STABLE AS $window$
         DECLARE
           p_mark BIGINT := _smithers_cp_usage_mark(p_org);
           p_series BIGINT;
           q DOUBLE PRECISION;
           lo BIGINT;
           hi BIGINT;
         BEGIN
           -- The tail: the org's events above its watermark, read by id.
           q := (SELECT COALESCE(SUM(e.quantity), 0.0)
                 FROM (SELECT * FROM _smithers_cp_usage_events WHERE org_id = p_org AND id > p_mark ORDER BY org_id, id OFFSET 0) AS e
                 WHERE e.metric = p_metric AND e.unit = p_unit AND e.observed_at_ms >= a AND e.observed_at_ms < b AND {scope});
           SELECT s.id INTO p_series FROM _smithers_cp_usage_series AS s
           WHERE s.org_id = p_org AND s.scope = p_scope AND s.metric = p_metric AND s.unit = p_unit;
           IF p_series IS NULL OR a >= b THEN
             RETURN q;
           END IF;
           {days}
           {hours}
           {minutes}
           {minute_edges}
           RETURN q;
         END $window$;",
        seconds = runs("p_from", "p_to", SECOND, Some(MINUTE)),
        tenths = runs("p_from", "p_to", EDGE, Some(SECOND)),
        tenth_edges = edges("p_from", "p_to", EDGE, args),
        days = runs("a", "b", DAY, None),
        hours = runs("a", "b", HOUR, Some(DAY)),
        minutes = runs("a", "b", MINUTE, Some(HOUR)),
        minute_edges = edges("a", "b", MINUTE, args),
    )
}
