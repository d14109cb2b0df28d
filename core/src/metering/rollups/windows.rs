//! Answering a window's sum: whole buckets, the partial minutes at its edges, and the tail.


use crate::engine::Both;
use super::{is_dense, minute_of, series_id, Series, ALL, EDGE, MILLI, MINUTE, NO_PROJECT};
use crate::db::Db;
use crate::engine::Dialect;
use crate::error::Result;
use crate::params;

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
fn scope_filter(d: Dialect) -> String {
    let is = Both { sqlite: "IS", postgres: "IS NOT DISTINCT FROM" }.pick(d);
    format!("(?4 = '{ALL}' OR project_id {is} ?4 OR (?4 = '{NO_PROJECT}' AND project_id IS NULL))")
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
            "SELECT observed_at_ms, quantity FROM {}
             WHERE id > ?7 AND org_id = ?1 AND metric = ?2 AND unit = ?3
               AND observed_at_ms >= ?5 AND observed_at_ms <= ?6 AND {}",
            super::tail_events(conn.dialect(), "?1", "?7"),
            scope_filter(conn.dialect())
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
        "SELECT observed_at_ms, quantity FROM _smithers_cp_usage_events{}
         WHERE org_id = ?1 AND observed_at_ms >= ?5 AND observed_at_ms < ?6 AND id <= ?7
           AND metric = ?2 AND unit = ?3 AND {}
         UNION ALL
         SELECT bucket_start_ms, quantity FROM _smithers_cp_usage_rollups
         WHERE series = ?8 AND level = {MILLI} AND bucket_start_ms >= ?5 AND bucket_start_ms < ?6",
        conn.pick(Both { sqlite: "\n           INDEXED BY _smithers_cp_usage_org_time_idx", postgres: "" }),
        scope_filter(conn.dialect())
    ), params![series.org_id, series.metric, series.unit, series.scope, from, to, watermark, id], |r| {
        f(r.get(0)?, r.get(1)?, 1);
            Ok(())
        })?;
    Ok(())
}

/// The sum of one series' window over `STATE` (as `st`) and `window_bounds` (as `w`): `?1`
/// org, `?2` scope, `?3` metric, `?4` unit, the window `[?5, ?6)`.
pub(crate) fn one_window(dialect: crate::engine::Dialect) -> super::WindowSql<'static> {
    super::WindowSql {
        org: "?1",
        metric: "?3",
        unit: "?4",
        series: "st.series",
        scope: "?2",
        watermark: "st.watermark",
        at: "w.",
        a: "w.a",
        b: "w.b",
        dialect,
    }
}

/// The quantity of a series in the inclusive window, and the tail `(watermark, max id)`
/// as that one statement saw it.
pub(crate) fn total(conn: &Db, series: &Series, since_ms: i64, until_ms: i64) -> Result<(f64, (i64, i64))> {
    static SQL: crate::engine::Built = crate::engine::Built::new();
    let sql = SQL.get(conn.dialect(), |dialect| {
        if dialect == Dialect::Postgres {
            return format!(
                "SELECT {sum} AS quantity, st.watermark AS watermark, st.max_id AS max_id FROM ({state}) AS st",
                sum = postgres_sum(),
                state = state(dialect),
            );
        }
        let window = one_window(dialect);
        format!(
            "WITH {tables} SELECT {sum} AS quantity, st.watermark AS watermark, st.max_id AS max_id FROM ({state}) AS st, ({window}) AS w",
            tables = super::window_sql::tables(dialect),
            sum = window.sum(),
            state = state(dialect),
            window = window_bounds(dialect),
        )
    });
    conn.one(sql, params![series.org_id, series.scope, series.metric, series.unit, since_ms, until_ms.saturating_add(1)], |r| {
        Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))
    })
}

/// The sum of the window `[?5, ?6)` of the series `?1`..`?4` on PostgreSQL: a call of the
/// server-side function (`window_postgres`), which runs only the pieces the window has.
pub(crate) fn postgres_sum() -> &'static str {
    "_smithers_cp_usage_window(?1, ?2, ?3, ?4, CAST(?5 AS BIGINT), CAST(?6 AS BIGINT))"
}

/// One window `[?5, ?6)` and its bounds, as a one-row table (`window_sql`).
/// On PostgreSQL the ends are cast to BIGINT: a bare parameter added to a number would be
/// typed `integer`.
pub(crate) fn window_bounds(d: Dialect) -> &'static str {
    static SQL: crate::engine::Built = crate::engine::Built::new();
    SQL.get(d, |d| {
        let (a, b) = (Both { sqlite: "?5", postgres: "CAST(?5 AS BIGINT)" }.pick(d), Both { sqlite: "?6", postgres: "CAST(?6 AS BIGINT)" }.pick(d));
        format!(
            "SELECT w0.*, {fine} FROM (SELECT {a} AS a, {b} AS b, {coarse}) AS w0",
            fine = super::window_sql::edge_bounds(d, "", "w0"),
            coarse = super::window_sql::bounds(d, "", a, b),
        )
    })
}

/// The rollups' state for one series (`?1` org, `?2` scope, `?3` metric, `?4` unit), as a
/// one-row table: the tail (`watermark` and `max_id`, `tail_columns`) and the series' id
/// (NULL when nothing of it was folded in yet).
pub(crate) fn state(d: Dialect) -> &'static str {
    static SQL: crate::engine::Built = crate::engine::Built::new();
    SQL.get(d, |d| {
        Both {
        sqlite: "SELECT r.watermark AS watermark,
         COALESCE((SELECT MAX(id) FROM _smithers_cp_usage_events), 0) AS max_id,
         (SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1 AND scope = ?2 AND metric = ?3 AND unit = ?4) AS series
       FROM _smithers_cp_usage_rollup_state AS r WHERE r.id = 1"
            .to_string(),
        postgres: format!(
            "SELECT {tail},
               (SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1 AND scope = ?2 AND metric = ?3 AND unit = ?4) AS series",
            tail = super::tail_columns(Dialect::Postgres, "?1"),
        ),
        }
        .pick(d)
    })
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
