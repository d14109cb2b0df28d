//! Answering a window's sum: whole buckets, the partial minutes at its edges, and the tail.

use super::{is_dense, minute_of, series_id, tail, Series, ALL, COARSE, EDGE, FINE, MILLI, MINUTE, NO_PROJECT};
use crate::db::Db;
use crate::error::Result;
use crate::params;
use crate::engine::SqlValue;
use std::collections::HashMap;

/// Takes out of `parts` the pieces finer than a minute that lie in minutes of the org
/// without fine levels, and returns them: they are read from the events (`split_slot`).
/// `known` keeps the minutes looked up, for the other windows of the same call.
fn take_sparse(conn: &Db, org_id: &str, parts: &mut Vec<Piece>, known: &mut Vec<(i64, bool)>) -> Result<Vec<(i64, i64)>> {
    let mut sparse = Vec::new();
    let mut kept = Vec::with_capacity(parts.len());
    for part in parts.drain(..) {
        let (from, to) = match part {
            Piece::Buckets { level, from, to } if level < MINUTE => (from, to),
            Piece::Raw { from, to } => (from, to),
            _ => {
                kept.push(part);
                continue;
            }
        };
        let minute = minute_of(from);
        let dense = match known.iter().find(|(m, _)| *m == minute) {
            Some(&(_, dense)) => dense,
            None => {
                let dense = is_dense(conn, org_id, minute)?;
                known.push((minute, dense));
                dense
            }
        };
        if dense {
            kept.push(part);
        } else {
            sparse.push((from, to));
        }
    }
    *parts = kept;
    Ok(sparse)
}

/// A piece of a window: whole buckets of one level, or raw events.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Piece {
    Buckets { level: i64, from: i64, to: i64 },
    Raw { from: i64, to: i64 },
}

/// Splits the half-open window `[from, to)` into whole buckets of the coarsest levels
/// that fit (of `levels`, finest first) and raw edges.
fn pieces(levels: &[i64], from: i64, to: i64, out: &mut Vec<Piece>) {
    if from >= to {
        return;
    }
    match levels.split_last() {
        None => out.push(Piece::Raw { from, to }),
        Some((&level, finer)) => {
            let first = from.div_euclid(level) * level + if from.rem_euclid(level) == 0 { 0 } else { level };
            let last = to.div_euclid(level) * level;
            if first < last {
                out.push(Piece::Buckets { level, from: first, to: last });
                pieces(finer, from, first, out);
                pieces(finer, last, to, out);
            } else {
                pieces(finer, from, to, out);
            }
        }
    }
}

/// The SQL condition that picks a series' raw events by scope (`?4`): every event, one
/// project's, or those without a project.
fn scope_filter() -> String {
    format!("(?4 = '{ALL}' OR project_id IS ?4 OR (?4 = '{NO_PROJECT}' AND project_id IS NULL))")
}

/// Calls `f(time, quantity, events)` for each bucket (at its start) and each raw event of
/// the series in the inclusive window, reading whole buckets of `levels` where they fit.
/// `tail` is `tail(conn)` read in the same transaction, so the watermark and the rows
/// agree (a caller reading several series reads it once).
pub(crate) fn for_each(
    conn: &Db,
    tail: (i64, i64),
    series: &Series,
    levels: &[i64],
    since_ms: i64,
    until_ms: i64,
    mut f: impl FnMut(i64, f64, i64),
) -> Result<()> {
    let (watermark, max_id) = tail;
    let mut parts = Vec::with_capacity(12);
    pieces(levels, since_ms, until_ms.saturating_add(1), &mut parts);
    // A series never folded in has no buckets, only (maybe) tail events.
    let id = series_id(conn, series)?;
    if let Some(id) = id {
        // An edge in a minute without fine levels: the minute's bucket, whole, skipped, or
        // (when the edge falls between its events) its few events.
        for (from, to) in take_sparse(conn, series.org_id, &mut parts, &mut Vec::new())? {
            edge_in_slot(conn, series, id, watermark, MINUTE, minute_of(from), from, to, &mut f)?;
        }
    }
    for part in parts.iter().filter(|_| id.is_some()) {
        let id = id.unwrap_or_default();
        match *part {
            Piece::Buckets { level, from, to } => {
                conn.each("SELECT bucket_start_ms, quantity, events FROM _smithers_cp_usage_rollups
                     WHERE series = ?1 AND level = ?2 AND bucket_start_ms >= ?3 AND bucket_start_ms < ?4", params![id, level, from, to], |r| {
                    f(r.get(0)?, r.get(1)?, r.get(2)?);
            Ok(())
        })?;
            }
            Piece::Raw { from, to } => {
                for (slot, a, b) in edge_slots(from, to) {
                    edge_in_slot(conn, series, id, watermark, EDGE, slot, a, b, &mut f)?;
                }
            }
        }
    }
    if max_id > watermark {
        // Every tail event in the window: the rollups and the edges above hold none of them.
        conn.each(&format!(
            "SELECT observed_at_ms, quantity FROM _smithers_cp_usage_events NOT INDEXED
             WHERE id > ?7 AND org_id = ?1 AND metric = ?2 AND unit = ?3
               AND observed_at_ms >= ?5 AND observed_at_ms <= ?6 AND {}",
            scope_filter()
        ), params![series.org_id, series.metric, series.unit, series.scope, since_ms, until_ms, watermark], |r| {
            f(r.get(0)?, r.get(1)?, 1);
            Ok(())
        })?;
    }
    Ok(())
}

/// The finest buckets (`EDGE`) a raw edge `[from, to)` of a window crosses: one, or two
/// for a short window; each as (its start, the part of the edge inside it).
fn edge_slots(from: i64, to: i64) -> impl Iterator<Item = (i64, i64, i64)> {
    let next = move |at: i64| Some(at - at.rem_euclid(EDGE) + EDGE).filter(|&n| n < to);
    std::iter::successors(Some(from).filter(|&at| at < to), move |&at| next(at)).map(move |at| {
        let slot = at - at.rem_euclid(EDGE);
        (slot, at, (slot + EDGE).min(to))
    })
}

/// The folded-in events in `[from, to)`, inside the finest bucket starting at `slot`. The
/// bucket answers when its time bounds lie wholly inside or outside the range
/// (always so for a window ending now); only a range that cuts between its events reads
/// them (`split_slot`).
#[allow(clippy::too_many_arguments)]
fn edge_in_slot(
    conn: &Db,
    series: &Series,
    id: i64,
    watermark: i64,
    level: i64,
    slot: i64,
    from: i64,
    to: i64,
    f: &mut impl FnMut(i64, f64, i64),
) -> Result<()> {
    let bucket: Option<(f64, i64, i64, i64)> = conn
        .row(
            "SELECT quantity, events, min_at_ms, max_at_ms FROM _smithers_cp_usage_rollups
             WHERE series = ?1 AND level = ?3 AND bucket_start_ms = ?2",
        params![id, slot, level], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let Some((quantity, events, min_at, max_at)) = bucket else { return Ok(()) };
    match edge_share(min_at, max_at, from, to) {
        Share::None => Ok(()),
        Share::Whole => {
            f(slot, quantity, events);
            Ok(())
        }
        Share::Split => split_slot(conn, series, id, watermark, from, to, f),
    }
}

/// How much of an edge bucket, its events within `[min_at, max_at]`, lies in `[from, to)`.
enum Share {
    None,
    Whole,
    Split,
}

fn edge_share(min_at: i64, max_at: i64, from: i64, to: i64) -> Share {
    if max_at < from || min_at >= to {
        Share::None
    } else if min_at >= from && max_at < to {
        Share::Whole
    } else {
        Share::Split
    }
}

/// The folded-in events in `[from, to)` read one by one, for an edge that splits a
/// bucket's events; through the documented (org_id, observed_at_ms) index.
fn split_slot(
    conn: &Db,
    series: &Series,
    id: i64,
    watermark: i64,
    from: i64,
    to: i64,
    f: &mut impl FnMut(i64, f64, i64),
) -> Result<()> {
    // The events still in the table, and the millisecond sums of those a retention purge
    // took out of it.
    conn.each(&format!(
        "SELECT observed_at_ms, quantity FROM _smithers_cp_usage_events
           INDEXED BY _smithers_cp_usage_org_time_idx
         WHERE org_id = ?1 AND observed_at_ms >= ?5 AND observed_at_ms < ?6 AND id <= ?7
           AND metric = ?2 AND unit = ?3 AND {}
         UNION ALL
         SELECT bucket_start_ms, quantity FROM _smithers_cp_usage_rollups
         WHERE series = ?8 AND level = {MILLI} AND bucket_start_ms >= ?5 AND bucket_start_ms < ?6",
        scope_filter()
    ), params![series.org_id, series.metric, series.unit, series.scope, from, to, watermark, id], |r| {
        f(r.get(0)?, r.get(1)?, 1);
            Ok(())
        })?;
    Ok(())
}

/// One inclusive window to sum, of one scope; the org, metric and unit are shared by the
/// windows summed together.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span<'a> {
    pub(crate) scope: &'a str,
    pub(crate) since_ms: i64,
    pub(crate) until_ms: i64,
}

/// Adds each run of whole buckets and each edge's bucket (when its time bounds settle the
/// edge) to its window's sum, in one statement; the edges whose bucket the edge splits.
fn bucket_sums(
    conn: &Db,
    runs: &[(usize, i64, i64, i64, i64)],
    edges: &[(usize, i64, i64, i64, i64, i64)],
    sums: &mut [f64],
) -> Result<Vec<usize>> {
    let mut split = Vec::new();
    if runs.is_empty() && edges.is_empty() {
        return Ok(split);
    }
    let mut values = Vec::with_capacity(5 * runs.len() + 4 * edges.len());
    for (j, &(_, id, level, from, to)) in runs.iter().enumerate() {
        values.extend([j as i64, id, level, from, to].map(SqlValue::Int));
    }
    for (j, &(_, id, level, slot, _, _)) in edges.iter().enumerate() {
        values.extend([j as i64, id, level, slot].map(SqlValue::Int));
    }
    with_sql(Shape::Buckets { runs: runs.len(), edges: edges.len() }, |sql| {
        conn.each(sql, &values, |r| {
            let index = r.get::<i64>(1)? as usize;
            let quantity: f64 = r.get(2)?;
            if r.get::<i64>(0)? == 0 {
                sums[runs[index].0] += quantity;
                return Ok(());
            }
            let (k, _, _, _, from, to) = edges[index];
            match edge_share(r.get(3)?, r.get(4)?, from, to) {
                Share::None => {}
                Share::Whole => sums[k] += quantity,
                Share::Split => split.push(index),
            }
            Ok(())
        })
    })?;
    Ok(split)
}

/// The quantity of each window (of one org, metric and unit), in two statements however
/// many windows there are: one for every run of whole buckets and every edge's bucket (a
/// join of them, as constant rows, with the rollups' key), and one for the tail; only an
/// edge that splits its bucket's events reads further (finer buckets, or the events).
/// `tail` is `tail(conn)` read in the same transaction.
pub(crate) fn totals(
    conn: &Db,
    tail: (i64, i64),
    org_id: &str,
    metric: &str,
    unit: &str,
    spans: &[Span],
) -> Result<Vec<f64>> {
    let (watermark, max_id) = tail;
    let mut sums = vec![0.0f64; spans.len()];
    if spans.is_empty() {
        return Ok(sums);
    }
    // The rolled-up series of each window's scope (none: nothing of it was folded in yet).
    let mut ids: Vec<Option<i64>> = Vec::with_capacity(spans.len());
    for (k, span) in spans.iter().enumerate() {
        let known = spans[..k].iter().position(|other| other.scope == span.scope).map(|i| ids[i]);
        ids.push(match known {
            Some(id) => id,
            None => series_id(conn, &Series { org_id, scope: span.scope, metric, unit })?,
        });
    }
    // Whole buckets of a minute and coarser, and each window's partial minutes at its two
    // edges, taken from their minute's bucket when its time bounds settle it (always so for a
    // window ending now): one statement. Only an edge that falls between a minute's events
    // looks further: into the minute's finer buckets if the org's minute is dense, else at
    // its few events.
    let mut runs: Vec<(usize, i64, i64, i64, i64)> = Vec::new(); // (span, series, level, from, to)
    let mut edges: Vec<(usize, i64, i64, i64, i64, i64)> = Vec::new(); // (span, series, level, slot, from, to)
    let mut parts = Vec::with_capacity(16);
    for (k, span) in spans.iter().enumerate() {
        let Some(id) = ids[k] else { continue };
        parts.clear();
        pieces(&COARSE, span.since_ms, span.until_ms.saturating_add(1), &mut parts);
        for part in &parts {
            match *part {
                Piece::Buckets { level, from, to } => runs.push((k, id, level, from, to)),
                Piece::Raw { from, to } => edges.push((k, id, MINUTE, minute_of(from), from, to)),
            }
        }
    }
    let split = bucket_sums(conn, &runs, &edges, &mut sums)?;
    if !split.is_empty() {
        let mut known = Vec::new();
        let (mut runs, mut fine_edges) = (Vec::new(), Vec::new());
        for j in split {
            let (k, id, _, _, from, to) = edges[j];
            parts.clear();
            parts.push(Piece::Raw { from, to });
            if take_sparse(conn, org_id, &mut parts, &mut known)?.is_empty() {
                // A dense minute: its seconds and the tenths at the edge.
                parts.clear();
                pieces(&FINE, from, to, &mut parts);
                for part in &parts {
                    match *part {
                        Piece::Buckets { level, from, to } => runs.push((k, id, level, from, to)),
                        Piece::Raw { from, to } => fine_edges.extend(edge_slots(from, to).map(|(slot, a, b)| (k, id, EDGE, slot, a, b))),
                    }
                }
            } else {
                let series = Series { org_id, scope: spans[k].scope, metric, unit };
                let sum = &mut sums[k];
                split_slot(conn, &series, id, watermark, from, to, &mut |_, q, _| *sum += q)?;
            }
        }
        for j in bucket_sums(conn, &runs, &fine_edges, &mut sums)? {
            let (k, id, _, _, from, to) = fine_edges[j];
            let series = Series { org_id, scope: spans[k].scope, metric, unit };
            let sum = &mut sums[k];
            split_slot(conn, &series, id, watermark, from, to, &mut |_, q, _| *sum += q)?;
        }
    }

    if max_id > watermark {
        // The tail's rows of this org, metric and unit, added up per window in one pass.
        let mut values = vec![SqlValue::Int(watermark), SqlValue::Text(org_id), SqlValue::Text(metric), SqlValue::Text(unit)];
        for span in spans {
            values.extend([SqlValue::Text(span.scope), SqlValue::Int(span.since_ms), SqlValue::Int(span.until_ms)]);
        }
        let row = with_sql(Shape::Tail { spans: spans.len() }, |sql| {
            conn.row(sql, &values, |r| (0..spans.len()).map(|k| r.get::<f64>(k)).collect::<Result<Vec<f64>>>())
        })?;
        if let Some(tail_sums) = row {
            for (sum, add) in sums.iter_mut().zip(tail_sums) {
                *sum += add;
            }
        }
    }
    Ok(sums)
}

/// The statements `totals` runs, by shape: their text depends only on how many runs,
/// edges or windows they carry, and is built once per shape and thread.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    Buckets { runs: usize, edges: usize },
    Tail { spans: usize },
}

fn with_sql<T>(shape: Shape, f: impl FnOnce(&str) -> T) -> T {
    thread_local! {
        static TEXTS: std::cell::RefCell<HashMap<Shape, std::rc::Rc<str>>> = Default::default();
    }
    let sql = TEXTS.with(|texts| texts.borrow_mut().entry(shape).or_insert_with(|| sql_for(shape).into()).clone());
    f(&sql)
}

fn sql_for(shape: Shape) -> String {
    let params = |first: usize, width: usize, count: usize| -> String {
        (0..count)
            .map(|j| {
                let p = first + width * j;
                format!("({})", (p..p + width).map(|i| format!("?{i}")).collect::<Vec<_>>().join(","))
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    match shape {
        // (run, series, level, from, to) per run, then (edge, series, slot) per edge. Rows:
        // (0, run, quantity) for a run; (1, edge, quantity, min_at, max_at) for an edge.
        Shape::Buckets { runs, edges } => {
            let mut parts = Vec::new();
            if runs > 0 {
                parts.push(format!(
                    "SELECT 0 AS kind, r.k AS k, (SELECT TOTAL(u.quantity) FROM _smithers_cp_usage_rollups u
                                     WHERE u.series = r.series AND u.level = r.level
                                       AND u.bucket_start_ms >= r.lo AND u.bucket_start_ms < r.hi) AS quantity,
                            NULL AS min_at, NULL AS max_at
                     FROM (WITH r(k, series, level, lo, hi) AS (VALUES {}) SELECT * FROM r) AS r",
                    params(1, 5, runs)
                ));
            }
            if edges > 0 {
                parts.push(format!(
                    "SELECT 1 AS kind, e.j AS k, u.quantity AS quantity, u.min_at_ms AS min_at, u.max_at_ms AS max_at
                     FROM (WITH e(j, series, level, slot) AS (VALUES {}) SELECT * FROM e) AS e
                     JOIN _smithers_cp_usage_rollups u ON u.series = e.series AND u.level = e.level AND u.bucket_start_ms = e.slot",
                    params(1 + 5 * runs, 4, edges)
                ));
            }
            parts.join(" UNION ALL ")
        }
        // ?1 watermark, ?2 org, ?3 metric, ?4 unit; then (scope, since, until) per window.
        Shape::Tail { spans } => {
            let sums: Vec<String> = (0..spans)
                .map(|k| {
                    let (s, a, b) = (5 + 3 * k, 6 + 3 * k, 7 + 3 * k);
                    let hit = format!(
                        "(?{s} = '{ALL}' OR project_id IS ?{s} OR (?{s} = '{NO_PROJECT}' AND project_id IS NULL))
                         AND observed_at_ms >= ?{a} AND observed_at_ms <= ?{b}"
                    );
                    format!("TOTAL(CASE WHEN {hit} THEN quantity END) AS sum{k}")
                })
                .collect();
            format!(
                "SELECT {} FROM _smithers_cp_usage_events NOT INDEXED
                 WHERE id > ?1 AND org_id = ?2 AND metric = ?3 AND unit = ?4",
                sums.join(", ")
            )
        }
    }
}

/// The quantity of a series in the inclusive window. Run it inside a
/// transaction.
pub(crate) fn total(conn: &Db, series: &Series, since_ms: i64, until_ms: i64) -> Result<f64> {
    let span = Span { scope: series.scope, since_ms, until_ms };
    Ok(totals(conn, tail(conn)?, series.org_id, series.metric, series.unit, &[span])?[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metering::rollups::{DAY, HOUR, LEVELS, SECOND};

    #[test]
    fn windows_split_into_whole_buckets_and_raw_edges() {
        let mut out = Vec::new();
        pieces(&LEVELS, 0, 2 * DAY, &mut out);
        assert_eq!(out, vec![Piece::Buckets { level: DAY, from: 0, to: 2 * DAY }]);

        out.clear();
        let from = DAY - HOUR - MINUTE - SECOND - 5;
        let to = 2 * DAY + HOUR + MINUTE + SECOND + 7;
        pieces(&LEVELS, from, to, &mut out);
        assert_eq!(
            out,
            vec![
                Piece::Buckets { level: DAY, from: DAY, to: 2 * DAY },
                Piece::Buckets { level: HOUR, from: DAY - HOUR, to: DAY },
                Piece::Buckets { level: MINUTE, from: DAY - HOUR - MINUTE, to: DAY - HOUR },
                Piece::Buckets { level: SECOND, from: DAY - HOUR - MINUTE - SECOND, to: DAY - HOUR - MINUTE },
                Piece::Raw { from, to: DAY - HOUR - MINUTE - SECOND },
                Piece::Buckets { level: HOUR, from: 2 * DAY, to: 2 * DAY + HOUR },
                Piece::Buckets { level: MINUTE, from: 2 * DAY + HOUR, to: 2 * DAY + HOUR + MINUTE },
                Piece::Buckets { level: SECOND, from: 2 * DAY + HOUR + MINUTE, to: 2 * DAY + HOUR + MINUTE + SECOND },
                Piece::Raw { from: 2 * DAY + HOUR + MINUTE + SECOND, to },
            ]
        );

        out.clear();
        pieces(&LEVELS, 10, 20, &mut out);
        assert_eq!(out, vec![Piece::Raw { from: 10, to: 20 }]);
        out.clear();
        pieces(&LEVELS, 20, 20, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn raw_edges_split_at_the_finest_buckets() {
        let slots = |from, to| edge_slots(from, to).collect::<Vec<_>>();
        assert_eq!(slots(150, 230), vec![(100, 150, 200), (200, 200, 230)]);
        assert_eq!(slots(200, 299), vec![(200, 200, 299)]);
        assert_eq!(slots(5, 5), vec![]);
    }

    #[test]
    fn pieces_cover_the_window_exactly_once() {
        let mut seed = 0x2545F4914F6CDD1Du64;
        for _ in 0..2_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let from = (seed % (5 * DAY as u64)) as i64;
            let to = from + ((seed >> 20) % (3 * DAY as u64)) as i64;
            let mut out = Vec::new();
            pieces(&LEVELS, from, to, &mut out);
            let mut ranges: Vec<(i64, i64)> = out
                .iter()
                .map(|p| match *p {
                    Piece::Buckets { from, to, .. } | Piece::Raw { from, to } => (from, to),
                })
                .collect();
            ranges.sort();
            let mut at = from;
            for (a, b) in ranges {
                assert_eq!(a, at);
                assert!(b > a);
                at = b;
            }
            assert_eq!(at, to.max(from));
        }
    }
}
