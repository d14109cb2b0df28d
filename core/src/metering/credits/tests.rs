//! The balances against the slow reference (`rule::replay`), over random grants, events,
//! voids and corrections, through the store's own operations on SQLite.

use super::balance::{self, Balance};
use super::corrections::{self, AmendUsage, CorrectUsage};
use super::grants::{self, CreditGrant, GrantCredits, VoidGrant};
use super::rule::{self, Grant, Usage};
use crate::db::Db;
use crate::engine::sqlite::SqliteEngine;
use crate::metering::consume::{self, ConsumeUsage};
use crate::metering::usage::{self, NewUsage};
use crate::request::{FromInput, RequestContext};
use crate::schema;
use crate::tenancy::{orgs, projects};
use serde_json::{json, Value};

fn open() -> SqliteEngine {
    let conn = SqliteEngine::open(":memory:").unwrap();
    schema::ensure(&conn).unwrap();
    conn
}

fn req<R: FromInput>(input: Value) -> R {
    R::from_input(&crate::validate::Input::new(&input).unwrap()).unwrap()
}

fn ctx() -> RequestContext {
    RequestContext::default()
}

fn setup(conn: &Db) {
    orgs::create(conn, &ctx(), req(json!({ "orgId": "o", "slug": "o", "name": "O" }))).unwrap();
    for p in ["p1", "p2"] {
        projects::create(conn, &ctx(), req(json!({ "orgId": "o", "projectId": p, "slug": p, "name": p }))).unwrap();
    }
}

/// A small deterministic generator (xorshift64*), so a failing case is found again by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn project(&mut self) -> Value {
        match self.below(3) {
            0 => Value::Null,
            1 => json!("p1"),
            _ => json!("p2"),
        }
    }
}

fn as_rule(g: &CreditGrant) -> Grant {
    Grant {
        grant_id: g.grant_id.clone(),
        project_id: g.project_id.clone(),
        amount: g.amount,
        priority: g.priority,
        effective_at_ms: g.effective_at_ms,
        expires_at_ms: g.expires_at_ms,
        voided_at_ms: g.voided_at_ms,
        recurrence: g.recurrence.map(|r| (r.period_ms, r.anchor_ms)),
        rollover: g.rollover.map(|r| (r.max_amount, r.min_amount)),
    }
}

fn same(fast: &Balance, slow: &rule::Balance) -> bool {
    fast.balance == slow.balance
        && fast.overage == slow.overage
        && fast.grants.len() == slow.grants.len()
        && fast.grants.iter().zip(&slow.grants).all(|(a, b)| a.grant_id == b.grant_id && a.remaining == b.remaining && a.expires_at_ms == b.expires_at_ms)
}

/// One random history: grants (priorities, expiries, recurrences, rollovers, voids),
/// events recorded in random order of their times (so many are backdated), voids and
/// amendments of some; then the balance of each scope at random instants, against the
/// reference's. Quantities are whole numbers, so both sum exactly.
/// Returns whether the account ended with a ledger (so the balances read from it).
fn one_case(seed: u64) -> bool {
    let conn = open();
    setup(&conn);
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    const SPAN: i64 = 100_000;
    let mut grant_ids = Vec::new();
    for i in 0..1 + rng.below(5) {
        let effective = rng.below(SPAN);
        let mut input = json!({
            "orgId": "o", "projectId": rng.project(), "metric": "tokens", "grantId": format!("g{i}"),
            "amount": rng.below(40), "priority": rng.below(3), "effectiveAtMs": effective,
        });
        if rng.chance(40) {
            input["expiresAtMs"] = json!(effective + 1 + rng.below(SPAN / 2));
        }
        if rng.chance(40) {
            input["recurrence"] = json!({ "period": 1000 * (5 + rng.below(20)), "anchorMs": rng.below(SPAN) });
            if rng.chance(60) {
                let max = rng.below(30);
                input["rollover"] = json!({ "maxAmount": max, "minAmount": rng.below(max + 1) });
            }
        }
        grants::grant(&conn, &ctx(), req::<GrantCredits>(input)).unwrap();
        grant_ids.push(format!("g{i}"));
    }
    // A balance-checked admission keeps a ledger (the state at its last cut): the writes
    // after it, many before its cut, must each make it go, or the balances below differ.
    // So does a balance read that crossed many intervals (`get`).
    let keep_ledger = |rng: &mut Rng| {
        if rng.chance(35) {
            let at = rng.below(SPAN + SPAN / 5);
            if rng.chance(50) {
                balance::weigh(&conn, "o", None, "tokens", "count", at, 1.0).unwrap();
            } else {
                balance::get(&conn, &ctx(), req(json!({ "orgId": "o", "metric": "tokens", "atMs": at }))).unwrap();
            }
        }
    };
    keep_ledger(&mut rng);
    for id in &grant_ids {
        if rng.chance(20) {
            let at = rng.below(SPAN + SPAN / 5);
            grants::void(&conn, &ctx(), req::<VoidGrant>(json!({ "orgId": "o", "grantId": id, "reason": "test", "voidedAtMs": at }))).unwrap();
        }
    }
    // (event id, project, time, quantity as corrected)
    let mut events: Vec<(i64, Option<String>, i64, f64)> = Vec::new();
    for _ in 0..rng.below(40) {
        let project = rng.project();
        let at = rng.below(SPAN + SPAN / 5);
        let quantity = rng.below(15) as f64;
        let e = usage::record(
            &conn,
            &ctx(),
            req::<NewUsage>(json!({ "orgId": "o", "projectId": project, "metric": "tokens", "quantity": quantity, "observedAtMs": at })),
        )
        .unwrap();
        events.push((e.id, e.project_id, at, quantity));
        keep_ledger(&mut rng);
    }
    for k in 0..events.len() {
        keep_ledger(&mut rng);
        if rng.chance(15) {
            corrections::void(&conn, &ctx(), req::<CorrectUsage>(json!({ "orgId": "o", "eventId": events[k].0, "reason": "test" }))).unwrap();
            events[k].3 = 0.0;
        } else if rng.chance(15) {
            let q = rng.below(15) as f64;
            corrections::amend(&conn, &ctx(), req::<AmendUsage>(json!({ "orgId": "o", "eventId": events[k].0, "quantity": q, "reason": "test" })))
                .unwrap();
            events[k].3 = q;
        }
    }
    // Another metric's usage and grant: never in this account's balance.
    usage::record(&conn, &ctx(), req::<NewUsage>(json!({ "orgId": "o", "metric": "other", "quantity": 5, "observedAtMs": 10 }))).unwrap();
    keep_ledger(&mut rng);
    // A grant voided after the ledger was kept: the ledger must go with the change.
    if rng.chance(50) {
        let id = &grant_ids[rng.below(grant_ids.len() as i64) as usize];
        let at = rng.below(SPAN + SPAN / 5);
        grants::void(&conn, &ctx(), req::<VoidGrant>(json!({ "orgId": "o", "grantId": id, "reason": "late", "voidedAtMs": at }))).unwrap();
    }
    let ledger: i64 = (&conn as &Db).one("SELECT COUNT(*) AS n FROM _smithers_cp_credit_ledger", &[], |r| r.get(0)).unwrap();
    let stored = grants::of_account(&conn, "o", "tokens", "count").unwrap();
    let reference: Vec<Grant> = stored.iter().map(as_rule).collect();
    let usage: Vec<Usage> = events.iter().map(|(_, p, at, q)| Usage { at_ms: *at, project_id: p.clone(), quantity: *q }).collect();
    let mut instants: Vec<i64> = (0..8).map(|_| rng.below(SPAN + SPAN / 2)).collect();
    // The edges, where an off-by-one would show: each grant's effect and end, each event's time.
    instants.extend(stored.iter().flat_map(|g| [g.effective_at_ms, g.effective_at_ms - 1, g.expires_at_ms.unwrap_or(0), g.voided_at_ms.unwrap_or(0)]));
    instants.extend(events.iter().take(5).map(|e| e.2));
    for at in instants.into_iter().filter(|&at| at >= 0) {
        for project in [None, Some("p1"), Some("p2")] {
            let fast = balance::balance_at(&conn, "o", project, "tokens", "count", at).unwrap();
            let slow = rule::replay(&reference, &usage, project, at);
            assert!(same(&fast, &slow), "seed {seed}, at {at}, project {project:?}:\n fast {fast:?}\n slow {slow:?}\n grants {reference:?}\n usage {usage:?}");
        }
    }
    // An event weighed for admission: covered when the balance at its time holds it and,
    // replayed with it, no usage up to the org's latest event is left uncovered that was
    // covered without it.
    let latest = events.iter().map(|e| e.2).max().unwrap_or(0).max(10);
    for _ in 0..6 {
        let project = rng.project();
        let project = project.as_str();
        let at = rng.below(SPAN + SPAN / 5);
        let quantity = rng.below(12) as f64;
        let weighed = balance::weigh(&conn, "o", project, "tokens", "count", at, quantity).unwrap();
        let end = latest.max(at);
        let mut with = usage.clone();
        with.push(Usage { at_ms: at, project_id: project.map(str::to_string), quantity });
        let before = rule::replay(&reference, &usage, project, at).balance;
        let covered = quantity <= before && rule::replay(&reference, &with, None, end).overage == rule::replay(&reference, &usage, None, end).overage;
        assert_eq!((weighed.before, weighed.covered), (before, covered), "seed {seed}: {quantity} at {at} for {project:?}");
    }
    ledger > 0
}

#[test]
fn balances_equal_the_reference_over_random_histories() {
    let with_ledger = (1..=100).filter(|&seed| one_case(seed)).count();
    // Enough of them read from a ledger for the test to speak for it.
    assert!(with_ledger >= 20, "{with_ledger} of 100 histories ended with a ledger");
}

fn grant(conn: &Db, input: Value) -> CreditGrant {
    grants::grant(conn, &ctx(), req(input)).unwrap()
}

fn consume(conn: &Db, quantity: f64, at: i64, project: Option<&str>) -> crate::metering::limits::Consumption {
    let input = json!({ "orgId": "o", "projectId": project, "metric": "tokens", "quantity": quantity, "observedAtMs": at, "requireBalance": true });
    consume::consume(conn, &ctx(), req::<ConsumeUsage>(input)).unwrap()
}

#[test]
fn a_balance_checked_consume_admits_only_what_the_balance_covers() {
    let conn = open();
    setup(&conn);
    grant(&conn, json!({ "orgId": "o", "metric": "tokens", "amount": 10, "effectiveAtMs": 0 }));
    grant(&conn, json!({ "orgId": "o", "projectId": "p1", "metric": "tokens", "amount": 5, "effectiveAtMs": 0 }));
    let first = consume(&conn, 12.0, 100, Some("p1"));
    let b = first.balance.clone().unwrap();
    assert!(first.allowed && b.allowed);
    assert_eq!((b.before, b.after), (15.0, 3.0));
    // The org's own events see the org's grants only: 3 left.
    let refused = consume(&conn, 4.0, 200, None);
    assert!(!refused.allowed && refused.event.is_none());
    assert_eq!(refused.balance.clone().map(|b| (b.allowed, b.before, b.after)), Some((false, 3.0, 3.0)));
    assert!(consume(&conn, 3.0, 200, None).allowed);
    assert!(!consume(&conn, 1.0, 300, Some("p2")).allowed);
    // Without requireBalance nothing is weighed, and usage past the grants is overage.
    let plain = consume::consume(
        &conn,
        &ctx(),
        req::<ConsumeUsage>(json!({ "orgId": "o", "metric": "tokens", "quantity": 2, "observedAtMs": 400 })),
    )
    .unwrap();
    assert!(plain.allowed && plain.balance.is_none());
    let now = balance::balance_at(&conn, "o", Some("p1"), "tokens", "count", 500).unwrap();
    assert_eq!((now.balance, now.overage), (0.0, 2.0));
}

#[test]
fn corrections_refuse_what_they_cannot_correct() {
    let conn = open();
    setup(&conn);
    let e = usage::record(&conn, &ctx(), req::<NewUsage>(json!({ "orgId": "o", "metric": "tokens", "quantity": 5, "idempotencyKey": "k" }))).unwrap();
    let amended = corrections::amend(&conn, &ctx(), req(json!({ "orgId": "o", "idempotencyKey": "k", "quantity": 2, "reason": "r" }))).unwrap();
    assert_eq!((amended.event_id, amended.previous_quantity, amended.quantity), (e.id, 5.0, 2.0));
    let err = corrections::amend(&conn, &ctx(), req(json!({ "orgId": "o", "eventId": amended.compensating_event_id, "quantity": 1, "reason": "r" })))
        .unwrap_err();
    assert_eq!((err.code, err.details.unwrap()["field"].clone()), ("INVALID_INPUT", json!("eventId")));
    let voided = corrections::void(&conn, &ctx(), req(json!({ "orgId": "o", "eventId": e.id, "reason": "r" }))).unwrap();
    assert_eq!((voided.previous_quantity, voided.quantity), (2.0, 0.0));
    let again = corrections::void(&conn, &ctx(), req(json!({ "orgId": "o", "eventId": e.id, "reason": "other" }))).unwrap();
    assert_eq!(again.compensating_event_id, voided.compensating_event_id);
    let err = corrections::amend(&conn, &ctx(), req(json!({ "orgId": "o", "eventId": e.id, "quantity": 1, "reason": "r" }))).unwrap_err();
    assert_eq!(err.code, "INVALID_INPUT");
    let err = corrections::void(&conn, &ctx(), req(json!({ "orgId": "o", "eventId": 9999, "reason": "r" }))).unwrap_err();
    assert_eq!(err.code, "NOT_FOUND");
    assert_eq!(usage::used(&conn, "o", None, "tokens", "count", usage::Window { since_ms: 0, until_ms: i64::MAX / 4 }).unwrap(), 0.0);
}
