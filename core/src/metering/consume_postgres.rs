//! `consumeUsage` on PostgreSQL: one round trip, a call of the server-side function
//! `_smithers_cp_usage_consume`.
//!
//! SQLite runs the call as a few small statements in one `BEGIN IMMEDIATE` transaction
//! (`consume::consume`), each costing microseconds. On PostgreSQL each statement is a round
//! trip to the server (a few milliseconds between machines), and the org's lock is held
//! across all of them: six round trips made `consumeUsage` about 25 calls a second per
//! org at a 4 ms round trip. The function does the same steps on the server, in the call's
//! own transaction: the org's write locks, the org's state, the key, each limit's windows,
//! the decision, the INSERT, and the fold once the org's tail holds `TAIL_MAX` events.
//!
//! One SQL statement could not do it: a statement reads one snapshot, taken before it
//! waits for the org's lock, so it would not see what the writer it waited for committed.
//! A plpgsql function's statements each take a snapshot of their own (READ COMMITTED), so
//! what it reads after the lock is what every earlier writer of the org committed.
//!
//! The function returns one row per limit (the limit, its usage in the window up to the
//! event and in the one after it) and a last row with the decision: `allowed` (NULL when
//! it stopped early: an org that does not take writes, or a key already recorded), the
//! new event's id, whether the event's project exists, and the org's tail. The checks, as
//! the caller sees them, are built in Rust from these rows (`limits::weigh`), with the
//! same arithmetic the function decided with.

use super::limits::{weigh, BalanceCheck, Consumption, UsageLimit};
use super::rollups::{self, TAIL_MAX};
use super::usage::NewUsage;
use crate::db::Db;
use crate::engine::postgres::org_write_opening;
use crate::engine::Dialect;
use crate::error::Result;
use crate::tenancy::orgs::{self, WriteKind};
use crate::validate::{period_ms, ORG_KEY, PERIODS};

/// The call: `?1`..`?9` the event in `NewUsage::values`' order, `?10` its project's limit
/// key, `?11` the lock_timeout, `?12` whether the balance covers the event (NULL: not asked).
const CALL: &str = "SELECT * FROM _smithers_cp_usage_consume(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, CAST(?12 AS BOOLEAN))";

/// The consume function, for the schema to create (`schema::postgres::ensure`); a window's
/// sum is `_smithers_cp_usage_window` (`rollups::window_postgres`).
pub(crate) fn functions() -> String {
    let d = Dialect::Postgres;
    let period = format!(
        "CASE lim.period {} ELSE 0 END",
        PERIODS.iter().map(|p| format!("WHEN '{p}' THEN {}", period_ms(p).unwrap_or(0))).collect::<Vec<_>>().join(" ")
    );
    format!(
        "DROP FUNCTION IF EXISTS _smithers_cp_usage_consume(TEXT, TEXT, TEXT, TEXT, DOUBLE PRECISION, TEXT, BIGINT, TEXT, TEXT, TEXT);
         DROP FUNCTION IF EXISTS _smithers_cp_usage_consume(TEXT, TEXT, TEXT, TEXT, DOUBLE PRECISION, TEXT, BIGINT, TEXT, TEXT, TEXT, TEXT);
         CREATE OR REPLACE FUNCTION _smithers_cp_usage_consume(
           TEXT, TEXT, TEXT, TEXT, DOUBLE PRECISION, TEXT, BIGINT, TEXT, TEXT, TEXT, TEXT, BOOLEAN)
           RETURNS TABLE (c_status TEXT, c_reason TEXT, c_seen BIGINT, c_allowed BOOLEAN, c_event_id BIGINT,
             c_project_found BOOLEAN, c_watermark BIGINT, c_max_id BIGINT,
             c_org_id TEXT, c_project_id TEXT, c_metric TEXT, c_unit TEXT, c_period TEXT,
             c_limit_quantity DOUBLE PRECISION, c_updated_at_ms BIGINT, c_used DOUBLE PRECISION, c_later DOUBLE PRECISION)
           LANGUAGE plpgsql AS $consume$
         -- $1 org, $2 project, $3 run, $4 metric, $5 quantity, $6 unit, $7 observed at,
         -- $8 metadata JSON, $9 idempotency key, $10 the project's limit key, $11 the
         -- lock_timeout to set (`Engine::statement_lock_timeout`), or NULL, $12 whether the
         -- balance covers the event (weighed by the caller under the org's lock), or NULL.
         DECLARE
           anything_later BOOLEAN;
           fits BOOLEAN := TRUE;
           lim RECORD;
           span BIGINT;
         BEGIN
           {opening}
           IF c_status IS NULL OR c_status = 'deleted' THEN
             RETURN NEXT;
             RETURN;
           END IF;
           IF $9 IS NOT NULL THEN
             SELECT e.id INTO c_seen FROM _smithers_cp_usage_events AS e WHERE e.org_id = $1 AND e.idempotency_key = $9;
             IF c_seen IS NOT NULL THEN
               RETURN NEXT;
               RETURN;
             END IF;
           END IF;
           -- Whether anything of the org lies after the event (an event, or a purged
           -- event's sum): when not, as for an event recorded now, every later sum is 0.
           anything_later := EXISTS (SELECT 1 FROM _smithers_cp_usage_events AS e WHERE e.org_id = $1 AND e.observed_at_ms > $7)
             OR EXISTS (SELECT 1 FROM _smithers_cp_usage_series AS s JOIN _smithers_cp_usage_rollups AS u ON u.series = s.id
                        WHERE s.org_id = $1 AND u.level = {MILLI} AND u.bucket_start_ms > $7);
           FOR lim IN SELECT l.org_id, l.project_id, l.metric, l.unit, l.period, l.limit_quantity, l.updated_at_ms
                      FROM _smithers_cp_usage_limits AS l
                      WHERE l.org_id = $1 AND l.metric = $4 AND l.unit = $6 AND l.project_key IN ($10, '{ORG_KEY}') LOOP
             span := {period};
             c_used := _smithers_cp_usage_window($1, COALESCE(lim.project_id, '{ALL}'), $4, $6, GREATEST($7 - span, 0), $7 + 1);
             c_later := CASE WHEN anything_later
               THEN _smithers_cp_usage_window($1, COALESCE(lim.project_id, '{ALL}'), $4, $6, $7 + 1, $7 + span + 1) ELSE 0 END;
             -- As `limits::weigh` decides: (used + later) + quantity against the limit.
             IF NOT (c_used + c_later + $5 <= lim.limit_quantity) THEN
               fits := FALSE;
             END IF;
             c_org_id := lim.org_id; c_project_id := lim.project_id; c_metric := lim.metric; c_unit := lim.unit;
             c_period := lim.period; c_limit_quantity := lim.limit_quantity; c_updated_at_ms := lim.updated_at_ms;
             RETURN NEXT;
           END LOOP;
           c_org_id := NULL; c_project_id := NULL; c_metric := NULL; c_unit := NULL; c_period := NULL;
           c_limit_quantity := NULL; c_updated_at_ms := NULL; c_used := NULL; c_later := NULL;
           IF $12 IS NOT NULL AND NOT $12 THEN
             fits := FALSE;
           END IF;
           c_allowed := fits;
           IF fits THEN
             -- A missing project fails the INSERT (its foreign key): the call's error.
             INSERT INTO _smithers_cp_usage_events
               (org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata_json, idempotency_key)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id INTO c_event_id;
             c_project_found := TRUE;
           ELSE
             c_project_found := $2 IS NULL
               OR EXISTS (SELECT 1 FROM _smithers_cp_projects AS p WHERE p.org_id = $1 AND p.project_id = $2);
           END IF;
           SELECT * INTO c_watermark, c_max_id FROM (SELECT {tail}) AS t;
           -- Upkeep, once the org's own tail holds `TAIL_MAX` events (ids are numbered
           -- across orgs, so every `TAIL_MAX`-th id would leave one org's tail to grow past
           -- what the writers' fold takes, now and then): a failed fold must not undo the
           -- event, and the tail stays one fold longer.
           IF fits AND c_max_id - c_watermark >= {TAIL_MAX} THEN
             PERFORM _smithers_cp_usage_fold_quietly($1);
             SELECT * INTO c_watermark, c_max_id FROM (SELECT {tail}) AS t;
           END IF;
           RETURN NEXT;
         END $consume$;",
        opening = org_write_opening("$1", "$11"),
        MILLI = rollups::MILLI,
        ALL = rollups::ALL,
        tail = rollups::tail_columns(d, "$1"),
    )
}

/// `consumeUsage` on PostgreSQL (see the module's doc); `consume::consume` calls it.
pub(crate) fn consume(conn: &Db, usage: &NewUsage) -> Result<Consumption> {
    consume_once(conn, usage, None, true)
}

/// `consumeUsage` with `requireBalance` on PostgreSQL: the balance read under the org's
/// lock (`credits::balance`: the grants, then every interval's sum in one statement), and
/// the function called in the same transaction with it, so no writer of the org can
/// spend it in between. About six round trips (the latest event, the grants, the ledger, the sums, the
/// call; the ledger written when it moves), where the call without a balance has one.
pub(crate) fn consume_with_balance(conn: &Db, usage: &NewUsage) -> Result<Consumption> {
    crate::db::write_org(conn, &usage.org_id, |c| {
        let weighed = super::credits::balance::weigh_event(c, usage)?;
        let before = weighed.before;
        let mut consumption = consume_once(c, usage, Some(weighed.covered), true)?;
        let repeated = consumption.event.as_ref().is_some_and(|e| e.duplicate == Some(true));
        let admitted = consumption.allowed;
        consumption.balance = Some(if repeated {
            // A key recorded before: the balance as it stands.
            BalanceCheck::repeated(before)
        } else {
            BalanceCheck::weigh(before, weighed.covered, usage.quantity, |_| admitted)
        });
        Ok(consumption)
    })
}

/// One call of the function. `again`: when the key's first event is gone by the time it is
/// read back (a retention purge between the call and the read), the call is made once more,
/// and records the event as new, as SQLite's one transaction would have.
fn consume_once(conn: &Db, usage: &NewUsage, balance: Option<bool>, again: bool) -> Result<Consumption> {
    let project_key = usage.project_id.as_deref().unwrap_or(ORG_KEY);
    let values = usage.values();
    let mut params = values.to_vec();
    params.push(crate::engine::SqlValue::Text(project_key));
    let lock_timeout = conn.statement_lock_timeout();
    params.push(crate::engine::ToSql::to_sql(&lock_timeout));
    params.push(crate::engine::ToSql::to_sql(&balance));
    let mut limits: Vec<(UsageLimit, f64, f64)> = Vec::new();
    let mut last = None;
    let rows = conn.each(CALL, &params, |r| {
        match r.get::<Option<String>>(8)? {
            Some(org_id) => limits.push((
                UsageLimit {
                    org_id,
                    project_id: r.get(9)?,
                    metric: r.get(10)?,
                    unit: r.get(11)?,
                    period: r.get(12)?,
                    limit_quantity: r.get(13)?,
                    updated_at_ms: r.get(14)?,
                },
                r.get(15)?,
                r.get(16)?,
            )),
            None => {
                let status: Option<String> = r.get(0)?;
                let state = status.map(|s| Ok::<_, crate::error::CpError>((s, r.get(1)?))).transpose()?;
                last = Some(Last {
                    state,
                    seen: r.get::<Option<i64>>(2)?.is_some(),
                    allowed: r.get(3)?,
                    event_id: r.get(4)?,
                    project_found: r.get::<Option<bool>>(5)?.unwrap_or(true),
                    tail: (r.get::<Option<i64>>(6)?.unwrap_or(0), r.get::<Option<i64>>(7)?.unwrap_or(0)),
                })
            }
        }
        Ok(())
    });
    if let Err(err) = rows {
        return Err(usage.insert_error(conn, err));
    }
    let Some(last) = last else {
        return Err(crate::error::CpError::new("INTERNAL", "consumeUsage: the server's function returned no decision.", None));
    };
    orgs::guard_state(&usage.org_id, last.state, WriteKind::Other)?;
    let Some(allowed) = last.allowed else {
        // Stopped at the key: the event first recorded with it (committed, so read after).
        if last.seen {
            if let Some(original) = usage.find_duplicate(conn)? {
                return Ok(Consumption { allowed: true, event: Some(original), checks: Vec::new(), balance: None });
            }
            if again {
                return consume_once(conn, usage, balance, false);
            }
        }
        return Err(crate::error::CpError::new("INTERNAL", "consumeUsage: the server's function stopped without a reason.", None));
    };
    let (fits, checks) = weigh(usage, limits);
    debug_assert_eq!(fits && balance.unwrap_or(true), allowed, "the function and weigh decide alike");
    if !last.project_found {
        // Refused, and its project is missing: that is the error, as on SQLite.
        usage.parents().check(conn)?;
    }
    let event = match last.event_id {
        Some(id) if allowed => Some(usage.event(id, usage.idempotency_key.as_ref().map(|_| false))),
        _ => None,
    };
    // The write committed: folding a tail another writer let grow long is upkeep, and its
    // failure is not the call's.
    let _ = rollups::fold_if_long(conn, &usage.org_id, last.tail);
    Ok(Consumption { allowed, event, checks, balance: None })
}

/// The function's last row.
struct Last {
    state: Option<(String, Option<String>)>,
    seen: bool,
    allowed: Option<bool>,
    event_id: Option<i64>,
    project_found: bool,
    tail: (i64, i64),
}
