//! Moves from a SQLite file to a real PostgreSQL server (the tests' shared one).

use super::tables::TABLES;
use super::Transfer;
use crate::audit::{self, retention};
use crate::db::Db;
use crate::engine::postgres::{testing, PgOptions, PostgresPool};
use crate::engine::sqlite::SqliteEngine;
use crate::engine::SqlValue;
use crate::error::CpError;
use crate::metering::{consume, limits, rollups, usage};
use crate::request::{self, FromInput, RequestContext};
use crate::settings::{billing, identity, secrets};
use crate::tenancy::{orgs, projects, quotas, teams};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn call<R: FromInput, T: Serialize>(conn: &Db, op: fn(&Db, &RequestContext, R) -> Result<T, CpError>, input: Value) -> Value {
    request::call(conn, &input, op).map(|out| serde_json::to_value(out).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", &input.to_string()[..input.to_string().len().min(200)]))
}

/// A SQLite file of its own, removed when dropped.
struct File(PathBuf);

impl File {
    fn new() -> File {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!("cp-move-{}-{}.db", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        File(path)
    }

    fn open(&self) -> SqliteEngine {
        let conn = SqliteEngine::open(self.0.to_str().unwrap()).unwrap();
        crate::schema::ensure(&conn).unwrap();
        conn
    }
}

impl Drop for File {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// A fresh database on the shared server, and a connection to it (the pool goes with it).
fn target() -> (PostgresPool, String) {
    let url = testing::shared().fresh_database();
    (PostgresPool::connect(&url, PgOptions { pool_size: 2, ..Default::default() }).unwrap(), url)
}

/// Every concern's rows, with the cases a move must keep: ids past the highest left (the
/// last events deleted), purged audit events whose hashes the chain keeps, a deleted
/// project's redacted events, rollups with a tail not yet folded and dense minutes.
fn populate(conn: &Db) {
    for (org, slug) in [("acme", "acme"), ("beta", "beta-co")] {
        call(conn, orgs::create, json!({ "orgId": org, "slug": slug, "name": format!("{org} Inc"), "createdAtMs": 1_000 }));
        call(conn, projects::create, json!({ "orgId": org, "projectId": "web", "slug": "web", "name": "Web", "createdAtMs": 2_000 }));
        call(conn, projects::create, json!({ "orgId": org, "projectId": "old", "slug": "old", "name": "Old", "createdAtMs": 2_000 }));
        call(conn, teams::create, json!({ "orgId": org, "teamId": "core", "slug": "core", "name": "Core", "createdAtMs": 3_000 }));
        call(conn, teams::add_member, json!({ "orgId": org, "teamId": "core", "userId": "ann", "role": "lead", "createdAtMs": 3_000 }));
        call(conn, projects::add_team, json!({ "orgId": org, "projectId": "web", "teamId": "core", "role": "admin", "createdAtMs": 3_000 }));
        call(conn, billing::upsert, json!({ "orgId": org, "plan": "team", "status": "active", "billingCustomerId": "cus_1", "updatedAtMs": 4_000 }));
        call(conn, identity::upsert, json!({ "orgId": org, "providerId": "okta", "type": "saml", "issuer": "https://okta", "status": "active", "metadata": { "a": 1 }, "updatedAtMs": 4_000 }));
        call(conn, secrets::put, json!({ "orgId": org, "projectId": "web", "name": "OPENAI", "provider": "vault", "ref": "vault://kv/o", "createdAtMs": 4_000 }));
        call(conn, quotas::set, json!({ "orgId": org, "maxProjects": 10, "updatedAtMs": 4_000 }));
        call(conn, limits::set, json!({ "orgId": org, "metric": "tokens", "period": "monthly", "limitQuantity": 1e9, "updatedAtMs": 4_000 }));
        call(conn, limits::set, json!({ "orgId": org, "projectId": "web", "metric": "tokens", "period": "daily", "limitQuantity": 1e9, "updatedAtMs": 4_000 }));
        call(conn, retention::set, json!({ "orgId": org, "auditDays": 30, "updatedAtMs": 4_000 }));
        // Old audit events for the purge below, and events of the project deleted below.
        for i in 0..5 {
            call(conn, audit::record, json!({ "orgId": org, "action": "old.thing", "targetType": "x", "occurredAtMs": 5_000 + i }));
            call(conn, audit::record, json!({ "orgId": org, "projectId": "old", "action": "old.project", "targetType": "x", "occurredAtMs": 10 * 86_400_000_i64 + i }));
        }
        // Usage: a dense minute (its fine buckets kept), sparse days, fractions, keys.
        let base = 20 * 86_400_000_i64;
        let events: Vec<Value> = (0..400)
            .map(|i: i64| {
                let at = if i < 120 { base + i * 10 } else { base + i * 3_600_000 };
                let mut e = json!({ "orgId": org, "metric": "tokens", "quantity": (i % 7) as f64 + 0.25, "unit": "count", "observedAtMs": at });
                if i % 3 == 0 {
                    e["projectId"] = json!("web");
                }
                if i % 50 == 0 {
                    e["idempotencyKey"] = json!(format!("k{i}"));
                }
                e
            })
            .collect();
        call(conn, usage::record_batch, json!({ "events": events, "returning": "ids" }));
        call(conn, crate::deletion::delete_project, json!({ "orgId": org, "projectId": "old" }));
    }
    call(conn, retention::purge, json!({ "nowMs": 40 * 86_400_000_i64 }));
    // The events folded into the rollups; then events recorded and not yet folded in (the
    // tail), and the last two ids deleted.
    call(conn, rollups::check, json!({}));
    // Credits: a recurring grant with a rollover, a project's grant, and a corrected event.
    call(conn, crate::metering::credits::grants::grant, json!({ "orgId": "acme", "grantId": "monthly", "metric": "tokens", "amount": 500, "effectiveAtMs": 0, "recurrence": { "period": "monthly", "anchorMs": 0 }, "rollover": { "maxAmount": 100 } }));
    call(conn, crate::metering::credits::grants::grant, json!({ "orgId": "acme", "projectId": "web", "metric": "tokens", "amount": 50, "effectiveAtMs": 0, "priority": 2 }));
    call(conn, usage::record, json!({ "orgId": "acme", "metric": "tokens", "quantity": 7, "observedAtMs": 30 * 86_400_000_i64 - 1, "idempotencyKey": "corrected" }));
    call(conn, crate::metering::credits::corrections::amend, json!({ "orgId": "acme", "idempotencyKey": "corrected", "quantity": 3, "reason": "recount" }));
    for i in 0..9 {
        call(conn, usage::record, json!({ "orgId": "acme", "metric": "tokens", "quantity": 1.5, "observedAtMs": 30 * 86_400_000_i64 + i }));
    }
    conn.run("DELETE FROM _smithers_cp_usage_events WHERE id > (SELECT MAX(id) - 2 FROM _smithers_cp_usage_events)", &[]).unwrap();
}

/// A table's rows, in key order, as JSON (integers and reals compared as numbers).
fn rows(conn: &Db, table: &str, (columns, key): &(Vec<String>, String)) -> Vec<Value> {
    let mut out = Vec::new();
    conn.query(&format!("SELECT {} FROM {table} ORDER BY {key}", columns.join(", ")), &[], &mut |r| {
        let mut row = Vec::new();
        for c in 0..columns.len() {
            row.push(match r.value(c).unwrap() {
                SqlValue::Null => Value::Null,
                SqlValue::Int(i) => json!(i as f64),
                SqlValue::Real(f) => json!(f),
                SqlValue::Text(s) => json!(s),
                SqlValue::Blob(b) => json!(b),
            });
        }
        out.push(Value::Array(row));
        Ok(true)
    })
    .unwrap();
    out
}

/// A connection to `url` as behind a pooler in transaction mode (`pgbouncer=true`): no
/// session state, and the move records no server session in its lease.
fn through_pooler(url: &str) -> PostgresPool {
    PostgresPool::connect(url, PgOptions { pool_size: 2, pooler: true, ..Default::default() }).unwrap()
}

/// Ends a run as a killed process does: its lease left in the target, unreleased.
fn abandon(mut transfer: Transfer) {
    transfer.leased = false;
    drop(transfer);
}

fn busy(result: Result<Transfer, CpError>) -> CpError {
    let err = result.err().expect("BUSY");
    assert_eq!(err.code, "BUSY", "{err}");
    err
}

/// Some steps, into the usage events: the rows copied.
fn move_some(transfer: &mut Transfer) -> u64 {
    for _ in 0..15 {
        transfer.step(100).unwrap();
    }
    let progress = transfer.progress();
    assert!(progress.copied > 100 && !progress.done, "{progress:?}");
    progress.copied
}

fn move_all(transfer: &mut Transfer, rows: usize) -> usize {
    let mut steps = 0;
    while !transfer.step(rows).unwrap().done {
        steps += 1;
        assert!(steps < 100_000, "the move does not end");
    }
    steps
}

#[test]
fn a_move_copies_every_row_and_both_stores_go_on_alike() {
    let file = File::new();
    let source = file.open();
    populate(&source);
    let (pool, _) = target();
    let mut transfer = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    let first = transfer.progress();
    assert!(!first.resumed && !first.done && first.copied == 0 && first.tables == TABLES.len());
    // Steps of 37 rows: many steps per table, a key that is several columns crossed.
    let steps = move_all(&mut transfer, 37);
    assert!(steps > 30, "{steps} steps");
    // Every row as it is in the source (before `verify` folds the target's tail in).
    let pg = pool.get().unwrap();
    for table in TABLES {
        let layout = super::layout(&source, &pg, table).unwrap();
        let layout = (layout.columns.clone(), layout.key.iter().map(|&k| layout.columns[k].clone()).collect::<Vec<_>>().join(", "));
        let copied = rows(&source, table, &layout);
        assert!(!copied.is_empty() || table == "_smithers_cp_usage_dense_minutes", "{table} has no rows to copy");
        assert_eq!(copied, rows(&pg, table, &layout), "{table}");
    }
    let sequence = |conn: &Db, sql: &str| -> i64 { conn.one(sql, &[], |r| r.get(0)).unwrap() };
    assert_eq!(
        sequence(&source, "SELECT seq FROM sqlite_sequence WHERE name = '_smithers_cp_usage_events'"),
        sequence(&pg, "SELECT seq FROM _smithers_cp_sequence WHERE name = '_smithers_cp_usage_events'"),
    );
    drop(pg);
    let report = transfer.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.orgs, report.rollups_consistent), (2, true));
    drop(transfer);
    let pg = pool.get().unwrap();

    // The same calls on both stores now give the same results: ids after the highest ever
    // (not the highest left), chains that go on from the copied heads, sums over the copied
    // rollups and their tail, the idempotency keys kept.
    let same = |f: &dyn Fn(&Db) -> Value| assert_eq!(f(&source), f(&pg));
    same(&|c| call(c, usage::record, json!({ "orgId": "acme", "metric": "tokens", "quantity": 2, "observedAtMs": 30 * 86_400_000_i64 + 50 })));
    same(&|c| call(c, usage::record, json!({ "orgId": "acme", "metric": "tokens", "quantity": 1.25, "unit": "count", "observedAtMs": 20 * 86_400_000_i64 + 500, "idempotencyKey": "k50" })));
    same(&|c| call(c, consume::consume, json!({ "orgId": "acme", "projectId": "web", "metric": "tokens", "quantity": 1, "observedAtMs": 20 * 86_400_000_i64 + 5_000 })));
    same(&|c| call(c, limits::check, json!({ "orgId": "beta", "metric": "tokens", "period": "monthly", "untilMs": 31 * 86_400_000_i64 })));
    same(&|c| call(c, audit::record, json!({ "orgId": "beta", "action": "after.move", "targetType": "x", "occurredAtMs": 50 * 86_400_000_i64 })));
    same(&|c| call(c, audit::verify, json!({ "orgId": "beta" })));
    same(&|c| call(c, orgs::create, json!({ "orgId": "gamma", "slug": "gamma", "name": "Gamma", "createdAtMs": 9 })));
    same(&|c| call(c, rollups::check, json!({})));
    same(&|c| call(c, crate::metering::credits::balance::get, json!({ "orgId": "acme", "projectId": "web", "metric": "tokens", "atMs": 45 * 86_400_000_i64 })));
    same(&|c| call(c, consume::consume, json!({ "orgId": "acme", "projectId": "web", "metric": "tokens", "quantity": 1, "observedAtMs": 31 * 86_400_000_i64, "requireBalance": true })));
}

#[test]
fn an_interrupted_move_goes_on_where_it_stopped() {
    let file = File::new();
    populate(&file.open());
    let (pool, _) = target();
    let mut transfer = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    for _ in 0..20 {
        transfer.step(53).unwrap();
    }
    let stopped = transfer.progress();
    assert!(stopped.copied > 400 && stopped.copied < stopped.rows && !stopped.done, "{stopped:?}");
    drop(transfer); // the run ends here

    // A second run goes on from the committed position: nothing copied twice.
    let mut transfer = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    let resumed = transfer.progress();
    assert!(resumed.resumed, "{resumed:?}");
    assert_eq!((resumed.copied, &resumed.table), (stopped.copied, &stopped.table));
    move_all(&mut transfer, 1_000);
    let report = transfer.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(transfer.progress().copied, transfer.progress().rows);
    drop(transfer);

    // A run after the move is done finds nothing to do.
    let mut transfer = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    assert!(transfer.progress().done && transfer.progress().resumed);
    assert!(transfer.step(10).unwrap().done);
    assert!(transfer.verify().unwrap().ok);
}

#[test]
fn a_target_holding_other_data_or_another_move_is_refused() {
    let refused = |result: Result<Transfer, CpError>, words: &str| {
        let err = result.err().expect("refused");
        assert_eq!((err.code, err.details.clone()), ("INVALID_INPUT", Some(json!({ "field": "to" }))), "{err}");
        assert!(err.summary.contains(words), "{}", err.summary);
    };
    let file = File::new();
    populate(&file.open());

    // A database the store already writes to.
    let (pool, _) = target();
    let pg = pool.get().unwrap();
    crate::schema::ensure(&pg).unwrap();
    call(&pg, orgs::create, json!({ "orgId": "other", "slug": "other", "name": "Other" }));
    drop(pg);
    refused(Transfer::start(file.open(), pool.get().unwrap()), "already holds data");

    // A move from another source, and a move from this source when it changed since.
    let (pool, _) = target();
    let mut transfer = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    transfer.step(10).unwrap();
    drop(transfer);
    let other = File::new();
    other.open();
    refused(Transfer::start(other.open(), pool.get().unwrap()), "another source");
    call(&file.open(), usage::record, json!({ "orgId": "beta", "metric": "tokens", "quantity": 1 }));
    refused(Transfer::start(file.open(), pool.get().unwrap()), "before it changed");
}

#[test]
fn two_moves_into_one_database_do_not_run_at_once() {
    let file = File::new();
    populate(&file.open());
    let (pool, url) = target();
    let mut first = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    first.step(100).unwrap();
    // Directly or through a pooler, while the first holds its lease.
    let err = busy(Transfer::start(file.open(), pool.get().unwrap()));
    assert!(err.summary.starts_with("Another move into this database is running; its hold on it ends in "), "{err}");
    busy(Transfer::start(file.open(), through_pooler(&url).get().unwrap()));
    // The first goes on untouched by them, and ends; then a move can go on.
    move_all(&mut first, 1_000);
    busy(Transfer::start(file.open(), pool.get().unwrap()));
    assert!(first.verify().unwrap().ok);
    drop(first);
    let again = Transfer::start(file.open(), through_pooler(&url).get().unwrap()).unwrap();
    assert!(again.progress().done && again.progress().resumed);
}

#[test]
fn through_a_pooler_a_stopped_move_is_taken_over_once_its_lease_ran_out() {
    let file = File::new();
    populate(&file.open());
    let (_, url) = target();
    let pooled = through_pooler(&url);
    let lease = Duration::from_millis(1_500);
    let mut first = Transfer::start_with_lease(file.open(), pooled.get().unwrap(), lease).unwrap();
    for _ in 0..10 {
        first.step(53).unwrap();
    }
    let stopped = first.progress();
    let left = Instant::now();
    // Killed: its lease stays, and its server connection lives on in the pool (as a
    // pooler's does after its client is gone), so only the lease's end says it stopped.
    abandon(first);
    let err = busy(Transfer::start(file.open(), pooled.get().unwrap()));
    assert!(err.summary.ends_with(" s unless it takes another step."), "{err}");
    let direct = PostgresPool::connect(&url, PgOptions { pool_size: 1, ..Default::default() }).unwrap();
    busy(Transfer::start(file.open(), direct.get().unwrap()));

    std::thread::sleep(lease.saturating_sub(left.elapsed()) + Duration::from_millis(100));
    let mut next = Transfer::start(file.open(), pooled.get().unwrap()).unwrap();
    let resumed = next.progress();
    assert!(resumed.resumed && !resumed.done, "{resumed:?}");
    assert_eq!((resumed.copied, &resumed.table), (stopped.copied, &stopped.table));
    move_all(&mut next, 1_000);
    let report = next.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(next.progress().copied, next.progress().rows);
}

#[test]
fn a_move_that_lost_its_lease_stops_with_busy_writing_nothing() {
    let file = File::new();
    populate(&file.open());
    let (_, url) = target();
    let pooled = through_pooler(&url);
    let lease = Duration::from_millis(800);
    let mut slow = Transfer::start_with_lease(file.open(), pooled.get().unwrap(), lease).unwrap();
    let before = slow.step(50).unwrap();
    assert_eq!(before.table, "_smithers_cp_teams");
    // No step for longer than its lease (stopped, then woken): taken over.
    std::thread::sleep(lease + Duration::from_millis(100));
    let mut next = Transfer::start(file.open(), pooled.get().unwrap()).unwrap();
    assert_eq!(next.progress().copied, before.copied);
    let err = slow.step(50).expect_err("BUSY");
    assert_eq!(err.code, "BUSY", "{err}");
    assert!(err.summary.starts_with("This move lost its hold on the database"), "{err}");
    assert_eq!(slow.verify().expect_err("BUSY").code, "BUSY");
    // Its step wrote nothing, and its end leaves the other's lease alone.
    drop(slow);
    busy(Transfer::start(file.open(), pooled.get().unwrap()));
    let pg = pooled.get().unwrap();
    let teams: i64 = (&pg as &Db).one("SELECT COUNT(*) FROM _smithers_cp_teams", &[], |r| r.get(0)).unwrap();
    assert_eq!(teams, 0);
    drop(pg);
    assert_eq!(next.step(10).unwrap().copied, before.copied + 2);
    move_all(&mut next, 1_000);
    assert!(next.verify().unwrap().ok);
}

#[test]
fn on_a_direct_connection_a_killed_move_is_taken_over_when_its_session_is_gone() {
    let file = File::new();
    populate(&file.open());
    let (pool, url) = target();
    // Its own connection, and a lease of an hour: only its session's end can free it.
    let own = PostgresPool::connect(&url, PgOptions { pool_size: 1, ..Default::default() }).unwrap();
    let mut first = Transfer::start_with_lease(file.open(), own.get().unwrap(), Duration::from_secs(3_600)).unwrap();
    let stopped = move_some(&mut first);
    let pg = pool.get().unwrap();
    let backend: i64 = (&pg as &Db).one("SELECT backend FROM _smithers_cp_migration WHERE step = '@lock'", &[], |r| r.get(0)).unwrap();
    abandon(first);
    // Its connection idle in its pool, its session there: the move may still be running.
    busy(Transfer::start(file.open(), pool.get().unwrap()));
    busy(Transfer::start(file.open(), through_pooler(&url).get().unwrap()));
    // The process gone: its socket closed, its server session ends.
    drop(own);
    let gone = Instant::now();
    while (&pg as &Db).exists("SELECT 1 FROM pg_stat_activity WHERE pid = ?1", &[SqlValue::Int(backend)]).unwrap() {
        assert!(gone.elapsed() < Duration::from_secs(10), "the session did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(pg);
    let mut next = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    assert!(next.progress().resumed && next.progress().copied == stopped, "{:?}", next.progress());
    move_all(&mut next, 1_000);
    assert!(next.verify().unwrap().ok);
}

#[test]
fn a_move_an_earlier_version_began_goes_on() {
    let file = File::new();
    populate(&file.open());
    let (pool, _) = target();
    let mut first = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    let stopped = move_some(&mut first);
    drop(first);
    // Its record as the version before the lease left it.
    (&pool.get().unwrap() as &Db)
        .script("ALTER TABLE _smithers_cp_migration DROP COLUMN owner, DROP COLUMN backend, DROP COLUMN backend_start, DROP COLUMN expires")
        .unwrap();
    let mut next = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    assert!(next.progress().resumed && next.progress().copied == stopped, "{:?}", next.progress());
    busy(Transfer::start(file.open(), pool.get().unwrap()));
    move_all(&mut next, 1_000);
    assert!(next.verify().unwrap().ok);
}

#[test]
fn a_file_written_to_during_the_move_fails_the_check() {
    let file = File::new();
    populate(&file.open());
    let (pool, _) = target();
    let mut transfer = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    transfer.step(100).unwrap();
    // A gateway still writing: the move reads its snapshot, so this event is not moved.
    call(&file.open(), usage::record, json!({ "orgId": "acme", "metric": "tokens", "quantity": 1 }));
    move_all(&mut transfer, 1_000);
    let report = transfer.verify().unwrap();
    assert!(report.source_changed && !report.ok, "{report:?}");
    assert!(report.differing.is_empty() && report.broken_audit_chains.is_empty(), "{report:?}");
}

#[test]
fn a_row_the_target_refuses_stops_the_move_naming_its_table_and_place() {
    let file = File::new();
    let source = file.open();
    populate(&source);
    // A row written with foreign keys off (as the documented store may have): an event
    // of a project that does not exist.
    source.conn().execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO _smithers_cp_usage_events (org_id, project_id, metric, quantity, unit, observed_at_ms)
           VALUES ('acme', 'ghost', 'tokens', 1, 'count', 5);
         PRAGMA foreign_keys = ON;",
    ).unwrap();
    let (pool, _) = target();
    let mut transfer = Transfer::start(file.open(), pool.get().unwrap()).unwrap();
    let err = loop {
        match transfer.step(500) {
            Ok(p) => assert!(!p.done, "the move copied a row its target must refuse"),
            Err(err) => break err,
        }
    };
    assert!(err.summary.starts_with("Copying _smithers_cp_usage_events after key "), "{err}");
    // Nothing of the refused step is there; the steps before it are.
    let progress = transfer.progress();
    assert_eq!(progress.table, "_smithers_cp_usage_events");
    let pg = pool.get().unwrap();
    let events: i64 = (&pg as &Db).one("SELECT COUNT(*) FROM _smithers_cp_usage_events", &[], |r| r.get(0)).unwrap();
    assert_eq!(events as u64, progress.table_copied);
}

#[test]
fn a_move_copies_every_table_of_the_store_but_those_it_leaves_out_on_purpose() {
    use super::tables::LEFT_OUT;
    // A table added to the schema and not to the move would be left behind in silence.
    let file = File::new();
    let names: Vec<String> = (&file.open() as &Db)
        .rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_smithers\\_cp\\_%' ESCAPE '\\'", &[], |r| r.get(0))
        .unwrap();
    assert!(names.len() > 15, "{names:?}");
    let pg_names = crate::schema::postgres::TABLES.iter().map(|n| n.to_string());
    for name in names.into_iter().chain(pg_names) {
        assert!(TABLES.contains(&name.as_str()) || LEFT_OUT.contains(&name.as_str()), "{name} is neither moved nor left out");
    }
}
