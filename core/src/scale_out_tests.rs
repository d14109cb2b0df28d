//! Several writers on one PostgreSQL database, as several gateway replicas are: writes of
//! different orgs never wait for each other, one org's writes go one at a time, sums never
//! depend on the order in which ids commit, and callers racing with one idempotency key
//! all get the one event. Each test has sessions of its own on the test server
//! (`engine::postgres::testing`).

use crate::db::Db;
use crate::engine::postgres::{testing, PgOptions, PostgresPool};
use crate::engine::Engine;
use crate::metering::{consume, limits, usage};
use crate::request::{self, FromInput, RequestContext};
use crate::tenancy::orgs;
use crate::error::CpError;
use crate::metering::rollups;
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;

fn call<R: FromInput, T: Serialize>(conn: &Db, op: fn(&Db, &RequestContext, R) -> Result<T, CpError>, input: Value) -> Result<Value, CpError> {
    request::call(conn, &input, op).map(|out| serde_json::to_value(out).unwrap())
}

/// A fresh database with orgs `a` and `b`, and a pool on it whose writers wait at most
/// `lock_timeout` for a lock.
fn two_orgs(lock_timeout: Duration) -> PostgresPool {
    let pool = PostgresPool::connect(&testing::shared().fresh_database(), PgOptions { pool_size: 4, lock_timeout, ..Default::default() }).unwrap();
    let conn = pool.get().unwrap();
    crate::schema::ensure(&conn).unwrap();
    for org in ["a", "b"] {
        call(&conn, orgs::create, json!({ "orgId": org, "slug": org, "name": org })).unwrap();
    }
    pool
}

fn used(conn: &Db, org: &str) -> f64 {
    let window = usage::Window { since_ms: 0, until_ms: 10_000_000 };
    usage::used(conn, org, None, "tok", "count", window).unwrap()
}

fn raw(conn: &Db, org: &str) -> f64 {
    conn.one(
        "SELECT COALESCE(SUM(quantity), 0) AS q FROM _smithers_cp_usage_events WHERE org_id = ?1",
        crate::params![org],
        |r| r.get(0),
    )
    .unwrap()
}

fn record(conn: &Db, org: &str, at: i64) -> Result<Value, CpError> {
    call(conn, usage::record, json!({ "orgId": org, "metric": "tok", "quantity": 1, "observedAtMs": at }))
}

#[test]
fn writers_of_different_orgs_never_wait_for_each_other_and_one_orgs_writers_go_one_at_a_time() {
    let pool = two_orgs(Duration::from_millis(300));
    let holder = pool.get().unwrap();
    // A write of org a left open, as a slow call (or one in the middle of its round trips) does.
    let opened = holder.begin(crate::engine::Scope::WriteOrg("a")).unwrap();
    record(&holder, "a", 1).unwrap();

    let other = pool.get().unwrap();
    // Org b's writes, of every kind, go through: had one waited for the holder (who never
    // lets go here), it would have failed with BUSY after the lock timeout.
    record(&other, "b", 2).unwrap();
    call(&other, limits::set, json!({ "orgId": "b", "metric": "tok", "limitQuantity": 100 })).unwrap();
    call(&other, consume::consume, json!({ "orgId": "b", "metric": "tok", "quantity": 1, "observedAtMs": 3 })).unwrap();
    call(&other, crate::tenancy::teams::create, json!({ "orgId": "b", "slug": "t", "name": "T" })).unwrap();
    call(&other, crate::audit::record, json!({ "orgId": "b", "action": "x", "targetType": "y" })).unwrap();

    // Org a's wait for the holder, and give up after the lock timeout.
    for attempt in [
        record(&other, "a", 4),
        call(&other, consume::consume, json!({ "orgId": "a", "metric": "tok", "quantity": 1, "observedAtMs": 5 })),
        call(&other, crate::tenancy::teams::create, json!({ "orgId": "a", "slug": "t", "name": "T" })),
    ] {
        assert_eq!(attempt.unwrap_err().code, "BUSY");
    }
    // Work across orgs waits for every org's writers.
    assert_eq!(call(&other, rollups::check, json!({})).unwrap_err().code, "BUSY");
    holder.end(opened, true).unwrap();
    record(&other, "a", 6).unwrap();
    assert_eq!(call(&other, rollups::check, json!({ "repair": false })).unwrap(), json!({ "consistent": true, "repaired": false }));
}

#[test]
fn an_id_that_commits_after_a_fold_passed_it_is_still_counted() {
    let pool = two_orgs(Duration::from_secs(5));
    let (late, busy) = (pool.get().unwrap(), pool.get().unwrap());
    let busy: &Db = &busy;
    // Org a draws an id and holds its write open...
    let opened = late.begin(crate::engine::Scope::WriteOrg("a")).unwrap();
    let late_id = record(&late, "a", 1).unwrap()["id"].as_i64().unwrap();
    // ...while org b draws the ids after it, commits them, and folds them (every 16th).
    for i in 0..(3 * rollups::TAIL_MAX) {
        record(busy, "b", 10 + i).unwrap();
    }
    let b_mark: i64 = busy.one("SELECT _smithers_cp_usage_mark('b') AS m", &[], |r| r.get(0)).unwrap();
    assert!(b_mark > late_id, "org b's folds passed org a's id {late_id} (b's watermark {b_mark})");
    // Org a's id commits last: below a watermark, but not org a's.
    late.end(opened, true).unwrap();
    for org in ["a", "b"] {
        assert_eq!(used(busy, org), raw(busy, org), "org {org}");
    }
    // And folded in, org a's event stays counted once.
    for i in 0..(2 * rollups::TAIL_MAX) {
        record(busy, "a", 100 + i).unwrap();
    }
    let a_mark: i64 = busy.one("SELECT _smithers_cp_usage_mark('a') AS m", &[], |r| r.get(0)).unwrap();
    assert!(a_mark > late_id, "org a folded its tail (watermark {a_mark})");
    for org in ["a", "b"] {
        assert_eq!(used(busy, org), raw(busy, org), "org {org}");
    }
    assert_eq!(call(busy, rollups::check, json!({ "repair": false })).unwrap(), json!({ "consistent": true, "repaired": false }));
}

#[test]
fn callers_racing_with_one_key_all_get_the_one_event() {
    let pool = two_orgs(Duration::from_secs(5));
    let first = pool.get().unwrap();
    let first: &Db = &first;
    let opened = first.begin(crate::engine::Scope::WriteOrg("a")).unwrap();
    let original = call(first, usage::record, json!({ "orgId": "a", "metric": "tok", "quantity": 2, "idempotencyKey": "k" })).unwrap();
    std::thread::scope(|s| {
        // Its statement starts while the first caller's event is not committed, and waits
        // for the org's lock.
        let second = s.spawn(|| {
            let conn = pool.get().unwrap();
            call(&conn, usage::record, json!({ "orgId": "a", "metric": "tok", "quantity": 2, "idempotencyKey": "k" }))
        });
        std::thread::sleep(Duration::from_millis(200));
        first.end(opened, true).unwrap();
        let again = second.join().unwrap().unwrap();
        assert_eq!(again["id"], original["id"]);
        assert_eq!(again["duplicate"], json!(true));
    });
    let n: i64 = first.one("SELECT COUNT(*) AS n FROM _smithers_cp_usage_events", &[], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}
