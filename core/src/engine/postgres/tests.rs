//! The engine against a real server (`testing::shared`), each test in a database of its own.

use super::testing::shared;
use super::*;
use crate::db;
use crate::engine::{Db, SqlData};
use crate::error::Constraint;
use crate::params;
use std::sync::Barrier;

fn options() -> PgOptions {
    PgOptions { pool_size: 2, ..PgOptions::default() }
}

fn pool() -> PostgresPool {
    PostgresPool::connect(&shared().fresh_database(), options()).unwrap()
}

/// Every row of a query, as owned values.
fn rows(db: &Db, sql: &str, params: &[SqlValue]) -> Vec<Vec<SqlData>> {
    let mut out = Vec::new();
    db.query(sql, params, &mut |r| {
        let mut row = Vec::new();
        let mut i = 0;
        while let Ok(v) = r.value(i) {
            row.push(match v {
                SqlValue::Null => SqlData::Null,
                SqlValue::Int(i) => SqlData::Int(i),
                SqlValue::Real(f) => SqlData::Real(f),
                SqlValue::Text(s) => SqlData::Text(s.to_string()),
                SqlValue::Blob(b) => SqlData::Blob(b.to_vec()),
            });
            i += 1;
        }
        out.push(row);
        Ok(true)
    })
    .unwrap();
    out
}

fn count(db: &Db, table: &str) -> i64 {
    db.one(&format!("SELECT COUNT(*) AS n FROM {table}"), &[], |r| r.get(0)).unwrap()
}

#[test]
fn the_engine_speaks_postgres_and_others_sqlite() {
    let pool = pool();
    assert_eq!(pool.get().unwrap().dialect(), Dialect::Postgres);
    let sqlite = crate::engine::sqlite::SqliteEngine::open(":memory:").unwrap();
    assert_eq!(Engine::dialect(&sqlite), Dialect::Sqlite);
}

#[test]
fn every_value_kind_binds_and_reads_back_nulls_included() {
    let pool = pool();
    let db = pool.get().unwrap();
    db.script(
        "CREATE TABLE kinds (
           k INTEGER PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, t TEXT, b BYTEA, f BOOLEAN,
           i4 INTEGER, n NUMERIC, j JSONB, v VARCHAR(20));",
    )
    .unwrap();
    let insert = "INSERT INTO kinds (k, i, r, t, b, f, i4, n, j, v) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    let done = db
        .run(
            insert,
            &[
                SqlValue::Int(1),
                SqlValue::Int(i64::MIN),
                SqlValue::Real(-2.5),
                SqlValue::Text("héllo ?1 '"),
                SqlValue::Blob(&[0, 255, 7]),
                SqlValue::Int(1),
                SqlValue::Int(-7),
                SqlValue::Real(12.25),
                SqlValue::Text(r#"{"a": [1, 2]}"#),
                SqlValue::Text("short"),
            ],
        )
        .unwrap();
    assert_eq!(done, Done { changes: 1, last_insert_id: 0 });
    // NULL into every type: typed from the statement's parameters.
    db.run(insert, &[&[SqlValue::Int(2)][..], &[SqlValue::Null; 9]].concat()).unwrap();
    // What SQLite's affinity would take: an integer as a float, text, a boolean, a
    // NUMERIC; a whole real as an integer.
    db.run(
        insert,
        &[
            SqlValue::Real(3.0),
            SqlValue::Real(4.0),
            SqlValue::Int(5),
            SqlValue::Int(6),
            SqlValue::Text("as bytes"),
            SqlValue::Int(0),
            SqlValue::Real(8.0),
            SqlValue::Int(9),
            SqlValue::Null,
            SqlValue::Real(1.5),
        ],
    )
    .unwrap();
    let got = rows(&db, "SELECT k, i, r, t, b, f, i4, n, j, v FROM kinds ORDER BY k", &[]);
    use SqlData::*;
    assert_eq!(
        got,
        vec![
            vec![
                Int(1),
                Int(i64::MIN),
                Real(-2.5),
                Text("héllo ?1 '".into()),
                Blob(vec![0, 255, 7]),
                Int(1),
                Int(-7),
                Real(12.25),
                Text(r#"{"a": [1, 2]}"#.into()),
                Text("short".into())
            ],
            vec![Int(2), Null, Null, Null, Null, Null, Null, Null, Null, Null],
            vec![Int(3), Int(4), Real(5.0), Text("6".into()), Blob(b"as bytes".to_vec()), Int(0), Int(8), Int(9), Null, Text("1.5".into())],
        ]
    );
    // A parameter repeats; aggregates read as SQLite's would (SUM of integers an integer).
    let got = rows(
        &db,
        "SELECT SUM(i) AS s, AVG(i4) AS a, COUNT(*) AS c, ?1 + k AS p FROM kinds WHERE k = ?1 OR k = ?1 + 2 GROUP BY k ORDER BY k",
        &[SqlValue::Int(1)],
    );
    assert_eq!(got, vec![vec![Int(i64::MIN), Real(-7.0), Int(1), Int(2)], vec![Int(4), Real(8.0), Int(1), Int(4)]]);
    // A value PostgreSQL's type cannot hold is refused before it is sent.
    let err = db.run("UPDATE kinds SET i4 = ?1 WHERE k = 1", &[SqlValue::Int(1 << 40)]).unwrap_err();
    assert_eq!(err.code, "STORAGE_ERROR");
    assert!(err.summary.contains("parameter ?1"), "{}", err.summary);
    let err = db.run("UPDATE kinds SET i = ?1 WHERE k = 1", &[SqlValue::Text("x")]).unwrap_err();
    assert!(err.summary.contains("takes int8"), "{}", err.summary);
    let err = db.run("UPDATE kinds SET i = ?1 WHERE k = 1", &[]).unwrap_err();
    assert!(err.summary.contains("takes 1 parameters, 0 given"), "{}", err.summary);
}

#[test]
fn returning_gives_the_inserted_id_and_changes_count_rows() {
    let pool = pool();
    let db = pool.get().unwrap();
    db.script("CREATE TABLE events (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT NULL)").unwrap();
    let db: &Db = &db;
    assert_eq!(db.insert("INSERT INTO events (name) VALUES (?1) RETURNING id", params!["a"]).unwrap(), 1);
    assert_eq!(db.insert("INSERT INTO events (name) VALUES (?1) RETURNING id", params!["b"]).unwrap(), 2);
    let done = db.run("INSERT INTO events (name) VALUES (?1), (?2), (?3) RETURNING id", params!["c", "d", "e"]).unwrap();
    assert_eq!(done, Done { changes: 3, last_insert_id: 5 });
    // Without RETURNING there is no id to give.
    assert_eq!(db.run("INSERT INTO events (name) VALUES ('f')", &[]).unwrap(), Done { changes: 1, last_insert_id: 0 });
    assert_eq!(db.execute("UPDATE events SET name = name || '!' WHERE id > ?1", params![2i64]).unwrap(), 4);
    assert_eq!(db.execute("DELETE FROM events WHERE id = ?1", params![100i64]).unwrap(), 0);
    // `row` takes the first row and stops.
    assert_eq!(db.row("SELECT name FROM events ORDER BY id", &[], |r| r.get::<String>(0)).unwrap(), Some("a".to_string()));
}

#[test]
fn transactions_commit_and_roll_back() {
    let pool = pool();
    let db = pool.get().unwrap();
    db.script("CREATE TABLE t (x BIGINT PRIMARY KEY)").unwrap();
    let db: &Db = &db;
    db::write(db, |c| c.execute("INSERT INTO t (x) VALUES (1)", &[])).unwrap();
    let err = db::write(db, |c| {
        c.execute("INSERT INTO t (x) VALUES (2)", &[])?;
        Err::<(), _>(CpError::new("INVALID_INPUT", "no", None))
    })
    .unwrap_err();
    assert_eq!(err.code, "INVALID_INPUT");
    assert_eq!(rows(db, "SELECT x FROM t", &[]), vec![vec![SqlData::Int(1)]]);
    // Another connection sees only what was committed.
    let other = pool.get().unwrap();
    let opened = db.begin(Scope::Write).unwrap();
    db.execute("INSERT INTO t (x) VALUES (3)", &[]).unwrap();
    assert_eq!(count(&other, "t"), 1);
    db.end(opened, true).unwrap();
    assert_eq!(count(&other, "t"), 2);
    // A read scope is one snapshot: a commit elsewhere in the middle is not seen.
    let seen = db::read(db, |c| {
        let before = count(c, "t");
        other.run("INSERT INTO t (x) VALUES (4)", &[])?;
        Ok((before, count(c, "t")))
    })
    .unwrap();
    assert_eq!(seen, (2, 2));
    assert_eq!(count(db, "t"), 3);
    // A read scope inside a write scope opens nothing.
    db::write(db, |c| {
        assert_eq!(c.begin(Scope::Read)?, Opened::Nothing);
        Ok(())
    })
    .unwrap();
}

#[test]
fn savepoints_nest_and_undo_only_their_part() {
    let pool = pool();
    let db = pool.get().unwrap();
    db.script("CREATE TABLE t (x BIGINT PRIMARY KEY)").unwrap();
    let db: &Db = &db;
    db::write(db, |c| {
        c.execute("INSERT INTO t (x) VALUES (1)", &[])?;
        db::write(c, |c| {
            c.execute("INSERT INTO t (x) VALUES (2)", &[])?;
            // Two levels down: fails on the duplicate, and only its part goes.
            let err = db::write(c, |c| {
                c.execute("INSERT INTO t (x) VALUES (3)", &[])?;
                c.execute("INSERT INTO t (x) VALUES (1)", &[])
            })
            .unwrap_err();
            assert_eq!(err.constraint, Some(Constraint::PrimaryKey));
            c.execute("INSERT INTO t (x) VALUES (4)", &[])
        })?;
        let err = db::write(c, |c| {
            c.execute("INSERT INTO t (x) VALUES (5)", &[])?;
            Err::<(), _>(CpError::new("INVALID_INPUT", "no", None))
        })
        .unwrap_err();
        assert_eq!(err.code, "INVALID_INPUT");
        Ok(())
    })
    .unwrap();
    assert_eq!(rows(db, "SELECT x FROM t ORDER BY x", &[]), vec![vec![SqlData::Int(1)], vec![SqlData::Int(2)], vec![SqlData::Int(4)]]);
}

#[test]
fn a_failed_statement_outside_a_savepoint_fails_the_commit() {
    let pool = pool();
    let db = pool.get().unwrap();
    db.script("CREATE TABLE t (x BIGINT PRIMARY KEY)").unwrap();
    let db: &Db = &db;
    db.execute("INSERT INTO t (x) VALUES (1)", &[]).unwrap();
    // The core caught the failure and went on; PostgreSQL had aborted the transaction.
    let err = db::write(db, |c| {
        c.execute("INSERT INTO t (x) VALUES (2)", &[])?;
        assert!(c.execute("INSERT INTO t (x) VALUES (1)", &[]).is_err());
        let next = c.execute("INSERT INTO t (x) VALUES (3)", &[]).unwrap_err();
        assert_eq!(next.details.as_ref().unwrap()["pgCode"], "25P02");
        Ok(())
    })
    .unwrap_err();
    assert_eq!((err.code, err.details.unwrap()["pgCode"].as_str()), ("STORAGE_ERROR", Some("25P02")));
    assert_eq!(count(db, "t"), 1);
    // The connection is fine afterwards.
    db::write(db, |c| c.execute("INSERT INTO t (x) VALUES (5)", &[])).unwrap();
    assert_eq!(count(db, "t"), 2);
}

#[test]
fn constraint_failures_map_as_the_sqlite_engines_do() {
    let pool = pool();
    let db = pool.get().unwrap();
    db.script(
        "CREATE TABLE parent (id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE);
         CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent(id) ON DELETE CASCADE,
                             n BIGINT CHECK (n >= 0));
         INSERT INTO parent VALUES ('p', 'p-slug');",
    )
    .unwrap();
    let fail = |sql: &str| db.run(sql, &[]).unwrap_err();
    let err = fail("INSERT INTO parent VALUES ('q', 'p-slug')");
    assert_eq!((err.code, err.constraint), ("STORAGE_ERROR", Some(Constraint::Unique)));
    let details = err.details.unwrap();
    assert_eq!((details["pgCode"].as_str(), details["constraint"].as_str()), (Some("23505"), Some("parent_slug_key")));
    let err = fail("INSERT INTO parent VALUES ('p', 'other')");
    assert_eq!(err.constraint, Some(Constraint::PrimaryKey));
    let err = fail("INSERT INTO child VALUES ('c', 'nobody', 1)");
    assert_eq!((err.code, err.constraint), ("STORAGE_ERROR", Some(Constraint::ForeignKey)));
    assert_eq!(err.details.unwrap()["pgCode"], "23503");
    let err = fail("INSERT INTO child VALUES ('c', NULL, 1)");
    assert_eq!((err.constraint, err.details.unwrap()["pgCode"].as_str()), (Some(Constraint::Other), Some("23502")));
    let err = fail("INSERT INTO child VALUES ('c', 'p', -1)");
    assert_eq!((err.constraint, err.details.unwrap()["pgCode"].as_str()), (Some(Constraint::Other), Some("23514")));
    let err = fail("SELEC 1");
    assert_eq!((err.code, err.constraint), ("STORAGE_ERROR", None));
    assert!(err.summary.starts_with("PostgreSQL: syntax error"), "{}", err.summary);
    // Cascades work as SQLite's do.
    db.run("INSERT INTO child VALUES ('c', 'p', 1)", &[]).unwrap();
    db.run("DELETE FROM parent WHERE id = 'p'", &[]).unwrap();
    assert_eq!(count(&db, "child"), 0);
}

#[test]
fn waiting_for_the_write_lock_past_the_lock_timeout_is_busy() {
    let url = shared().fresh_database();
    let pool = PostgresPool::connect(&url, PgOptions { lock_timeout: Duration::from_millis(200), ..options() }).unwrap();
    let (a, b) = (pool.get().unwrap(), pool.get().unwrap());
    let opened = a.begin(Scope::Write).unwrap();
    let started = Instant::now();
    let err = b.begin(Scope::Write).unwrap_err();
    assert_eq!((err.code, err.details.unwrap()["pgCode"].as_str()), ("BUSY", Some("55P03")));
    assert!(started.elapsed() >= Duration::from_millis(200));
    // b's failed BEGIN left nothing open; once a is done, b writes.
    a.end(opened, true).unwrap();
    let opened = b.begin(Scope::Write).unwrap();
    b.end(opened, true).unwrap();
}

#[test]
fn serialization_failures_and_deadlocks_are_busy() {
    let pool = PostgresPool::connect(&shared().fresh_database(), PgOptions { pool_size: 3, ..options() }).unwrap();
    let db = pool.get().unwrap();
    db.script("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO t VALUES (1, 0), (2, 0);").unwrap();
    // A snapshot's row changed by another connection, then written: 40001.
    let opened = db.begin(Scope::Read).unwrap();
    assert_eq!(count(&db, "t"), 2);
    pool.get().unwrap().run("UPDATE t SET n = n + 1 WHERE id = 1", &[]).unwrap();
    let err = db.run("UPDATE t SET n = n + 1 WHERE id = 1", &[]).unwrap_err();
    assert_eq!((err.code, err.details.unwrap()["pgCode"].as_str()), ("BUSY", Some("40001")));
    db.end(opened, false).unwrap();
    // Two connections each holding the row the other wants: 40P01 for one of them.
    let barrier = Barrier::new(2);
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = [(1, 2), (2, 1)]
            .into_iter()
            .map(|(first, second)| {
                let (pool, barrier) = (&pool, &barrier);
                s.spawn(move || {
                    let db = pool.get()?;
                    // Row locks, not the write lock: two plain transactions.
                    db.script("BEGIN")?;
                    db.run("UPDATE t SET n = n + 1 WHERE id = ?1", &[SqlValue::Int(first)])?;
                    barrier.wait();
                    let result = db.run("UPDATE t SET n = n + 1 WHERE id = ?1", &[SqlValue::Int(second)]).map(|_| ());
                    db.script("ROLLBACK")?;
                    result
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let failed: Vec<&CpError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failed.len(), 1, "{results:?}");
    assert_eq!((failed[0].code, failed[0].details.as_ref().unwrap()["pgCode"].as_str()), ("BUSY", Some("40P01")));
}

#[test]
fn a_killed_connection_is_unavailable_and_not_lent_again() {
    let pool = pool();
    let victim = pool.get().unwrap();
    let pid: i64 = (&victim as &Db).one("SELECT pg_backend_pid() AS pid", &[], |r| r.get(0)).unwrap();
    let killer = pool.get().unwrap();
    let killed: bool = (&killer as &Db).one("SELECT pg_terminate_backend(?1) AS killed", params![pid], |r| r.get(0)).unwrap();
    assert!(killed);
    let err = victim.run("SELECT 1", &[]).unwrap_err();
    assert_eq!(err.code, UNAVAILABLE, "{err:?}");
    // The server's own words, its SQLSTATE, and worth a retry on a new connection.
    assert_eq!(err.summary, "PostgreSQL: terminating connection due to administrator command");
    let details = err.details.unwrap();
    assert_eq!((details["pgCode"].as_str(), details["transient"].as_bool()), (Some("57P01"), Some(true)));
    drop((victim, killer));
    assert_eq!(pool.counts(), (1, 1));
    // The pool lends a sound connection (the killer's) and opens new ones as needed.
    let again = pool.get().unwrap();
    let other = pool.get().unwrap();
    assert_ne!((&again as &Db).one("SELECT pg_backend_pid() AS pid", &[], |r| r.get::<i64>(0)).unwrap(), pid);
    assert_eq!(other.run("SELECT 1", &[]).unwrap().changes, 1);
}

#[test]
fn an_unreachable_server_is_unavailable() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let opts = PgOptions { connect_timeout: Duration::from_secs(2), ..options() };
    let err = PostgresPool::connect(&format!("postgres://postgres@127.0.0.1:{closed_port}/x"), opts.clone()).err().unwrap();
    assert_eq!(err.code, UNAVAILABLE);
    assert!(err.summary.starts_with("PostgreSQL: cannot connect"), "{}", err.summary);
    assert_eq!(err.details.unwrap()["transient"], true, "no server there yet: a retry may find one");
    // A database or a role that does not exist: configuration, no retry fixes it.
    let err = PostgresPool::connect(&shared().url("no_such_database"), opts.clone()).err().unwrap();
    let details = err.details.unwrap();
    assert_eq!((err.code, details["pgCode"].as_str(), details["transient"].as_bool()), (UNAVAILABLE, Some("3D000"), Some(false)));
    let no_role = shared().url("postgres").replacen("postgres@", "no_such_role@", 1);
    let err = PostgresPool::connect(&no_role, opts.clone()).err().unwrap();
    let details = err.details.unwrap();
    assert_eq!((err.code, details["pgCode"].as_str(), details["transient"].as_bool()), (UNAVAILABLE, Some("28000"), Some(false)), "{}", err.summary);
    let err = PostgresPool::connect("postgres://h/db?bogus=1", opts).err().unwrap();
    assert_eq!(err.code, "INVALID_INPUT");
}

#[test]
fn the_pool_serves_concurrent_threads() {
    let pool = PostgresPool::connect(&shared().fresh_database(), PgOptions { pool_size: 4, ..options() }).unwrap();
    // Four threads at a barrier, each on a connection of its own for 0.4 s: all four ran at
    // once when the last began before the first ended. A busy machine may start one thread
    // late: the race is run again then, a few times at most.
    let race = || -> Vec<(Instant, Instant, i64)> {
        let barrier = Barrier::new(4);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let (pool, barrier) = (&pool, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let db = pool.get().unwrap();
                        let begin = Instant::now();
                        let pid = (&db as &Db).one("SELECT pg_backend_pid() AS pid FROM pg_sleep(0.4)", &[], |r| r.get(0)).unwrap();
                        (begin, Instant::now(), pid)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    };
    let all_at_once = |intervals: &[(Instant, Instant, i64)]| {
        intervals.iter().map(|i| i.0).max().unwrap() < intervals.iter().map(|i| i.1).min().unwrap()
    };
    let mut intervals = race();
    for _ in 1..4 {
        if all_at_once(&intervals) {
            break;
        }
        intervals = race();
    }
    assert!(all_at_once(&intervals), "the four queries never all ran at once in 4 races");
    let mut pids: Vec<i64> = intervals.iter().map(|i| i.2).collect();
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 4);
    assert_eq!(pool.counts(), (4, 4));
    // All lent out: the next caller waits, then is told the pool is busy.
    let small = PostgresPool::connect(&shared().fresh_database(), PgOptions { pool_size: 1, acquire_timeout: Duration::from_millis(100), ..options() }).unwrap();
    let held = small.get().unwrap();
    assert_eq!(small.get().err().unwrap().code, "BUSY");
    drop(held);
    small.get().unwrap();
    small.close();
    assert_eq!(small.get().err().unwrap().code, "CLOSED");
}

#[test]
fn dropping_a_connection_mid_transaction_rolls_it_back() {
    let pool = PostgresPool::connect(&shared().fresh_database(), PgOptions { pool_size: 1, ..options() }).unwrap();
    {
        let db = pool.get().unwrap();
        db.script("CREATE TABLE t (x BIGINT)").unwrap();
        db.begin(Scope::Write).unwrap();
        db.run("INSERT INTO t VALUES (1)", &[]).unwrap();
    }
    let db = pool.get().unwrap();
    assert_eq!(count(&db, "t"), 0);
    // And the write lock went with it.
    let opened = db.begin(Scope::Write).unwrap();
    db.end(opened, true).unwrap();
}

#[test]
fn statements_are_prepared_once_per_connection_and_timeouts_set() {
    let pool = PostgresPool::connect(
        &shared().fresh_database(),
        PgOptions { statement_timeout: Some(Duration::from_millis(300)), lock_timeout: Duration::from_millis(1500), ..options() },
    )
    .unwrap();
    let db = pool.get().unwrap();
    for _ in 0..3 {
        db.run("SELECT ?1::BIGINT + 1 AS x", &[SqlValue::Int(1)]).unwrap();
    }
    let prepared: i64 = (&db as &Db)
        .one("SELECT COUNT(*) AS n FROM pg_prepared_statements WHERE statement = 'SELECT $1::BIGINT + 1 AS x'", &[], |r| r.get(0))
        .unwrap();
    assert_eq!(prepared, 1);
    let setting = |name: &str| (&db as &Db).one(&format!("SHOW {name}"), &[], |r| r.get::<String>(0)).unwrap();
    assert_eq!((setting("statement_timeout"), setting("lock_timeout")), ("300ms".to_string(), "1500ms".to_string()));
    let err = db.run("SELECT pg_sleep(2)", &[]).unwrap_err();
    assert_eq!((err.code, err.details.unwrap()["pgCode"].as_str()), ("STORAGE_ERROR", Some("57014")));
}

#[test]
fn tls_is_used_as_the_url_asks() {
    let server = shared();
    let database = server.fresh_database();
    let database = database.rsplit('/').next().unwrap();
    let ca = server.ca_file();
    let ca = ca.to_str().unwrap();
    let port = server.port();
    let ssl = |url: String| -> Result<bool> {
        let pool = PostgresPool::connect(&url, options())?;
        let db = pool.get()?;
        (&db as &Db).one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[], |r| r.get(0))
    };
    let at = |host: &str, query: &str| format!("postgres://postgres@{host}:{port}/{database}?hostaddr=127.0.0.1&{query}");
    assert!(!ssl(at("localhost", "application_name=plain")).unwrap());
    assert!(!ssl(at("localhost", "sslmode=prefer")).unwrap());
    // require: encrypted, the certificate not checked.
    assert!(ssl(at("localhost", "sslmode=require")).unwrap());
    assert!(ssl(at("wrong.invalid", "sslmode=require")).unwrap());
    // verify-full: the chain and the name.
    assert!(ssl(at("localhost", &format!("sslmode=verify-full&sslrootcert={ca}"))).unwrap());
    let err = ssl(at("wrong.invalid", &format!("sslmode=verify-full&sslrootcert={ca}"))).unwrap_err();
    assert_eq!((err.code, &err.details.unwrap()["transient"]), (UNAVAILABLE, &serde_json::json!(false)));
    // Mozilla's roots do not know the test authority.
    let err = ssl(at("localhost", "sslmode=verify-full")).unwrap_err();
    assert_eq!((err.code, &err.details.clone().unwrap()["transient"]), (UNAVAILABLE, &serde_json::json!(false)));
    assert!(err.summary.contains("certificate"), "{}", err.summary);
    // verify-ca (or require with a root certificate): the chain only.
    assert!(ssl(at("wrong.invalid", &format!("sslmode=verify-ca&sslrootcert={ca}"))).unwrap());
    assert!(ssl(at("wrong.invalid", &format!("sslmode=require&sslrootcert={ca}"))).unwrap());
}

#[test]
fn the_pool_is_shared_across_threads_and_a_connection_moves_to_one() {
    fn shared<T: Send + Sync + Clone>() {}
    fn movable<T: Send>() {}
    shared::<PostgresPool>();
    movable::<PostgresEngine>();
}

#[test]
fn work_on_a_connection_that_died_idle_runs_again_on_a_new_one_and_no_other_failure_does() {
    let pool = PostgresPool::connect(&shared().fresh_database(), PgOptions { pool_size: 2, ..options() }).unwrap();
    let other = PostgresPool::connect(&shared().url("postgres"), options()).unwrap();
    let idle_pid = || -> i64 {
        let conn = pool.get().unwrap();
        (&conn as &Db).one("SELECT pg_backend_pid() AS pid", &[], |r| r.get(0)).unwrap()
    };
    let terminate = |pid: i64| {
        let killer = other.get().unwrap();
        assert!((&killer as &Db).one("SELECT pg_terminate_backend(?1) AS killed", params![pid], |r| r.get::<bool>(0)).unwrap());
        // The backend is gone once its pid is.
        while (&killer as &Db).exists("SELECT 1 AS alive FROM pg_stat_activity WHERE pid = ?1", params![pid]).unwrap() {
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    // The pool's idle connection is ended by the server while nobody uses it.
    let dead = idle_pid();
    terminate(dead);
    let runs = std::cell::Cell::new(0);
    let pid = pool
        .run(|conn| {
            runs.set(runs.get() + 1);
            (conn as &Db).one("SELECT pg_backend_pid() AS pid", &[], |r| r.get::<i64>(0))
        })
        .unwrap();
    assert_eq!(runs.get(), 2, "run again after the dead connection's failure");
    assert_ne!(pid, dead);

    // Work that failed after the server answered it is not run again: its failure is the caller's.
    let victim = idle_pid();
    runs.set(0);
    let err = pool
        .run(|conn| {
            runs.set(runs.get() + 1);
            (conn as &Db).one("SELECT 1 AS one", &[], |r| r.get::<i64>(0))?;
            if runs.get() == 1 {
                terminate(victim);
            }
            (conn as &Db).one("SELECT 2 AS two", &[], |r| r.get::<i64>(0))
        })
        .unwrap_err();
    assert_eq!((err.code, runs.get()), (UNAVAILABLE, 1));
}

/// Backends of the database waiting for an advisory lock (`WRITE_LOCK`'s or an org's).
fn waiting_for_locks(db: &Db) -> i64 {
    let sql = "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
               WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()";
    db.one(sql, &[], |r| r.get(0)).unwrap()
}

/// Waits up to 10 s for `done`, polling.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A write of one org's rows, as the core's are: its locks, under the store's shared one.
fn write_org(org: &str) -> impl Fn(&PostgresEngine) -> Result<String> + Send + 'static {
    let org = org.to_string();
    move |db| {
        let opened = db.begin(Scope::WriteOrg(&org))?;
        db.end(opened, true)?;
        Ok(org.clone())
    }
}

#[test]
fn spawn_runs_pool_size_calls_at_once_on_threads_of_the_pool() {
    let url = shared().fresh_database();
    let pool = PostgresPool::connect(&url, PgOptions { pool_size: 4, lock_timeout: Duration::from_secs(20), ..options() }).unwrap();
    let holder = PostgresPool::connect(&url, options()).unwrap();
    let holder = holder.get().unwrap();
    // The store's lock whole: every org's writer waits for it.
    holder.script(&format!("SELECT pg_advisory_lock({WRITE_LOCK})")).unwrap();
    let (sent, results) = std::sync::mpsc::channel();
    for i in 0..6 {
        let sent = sent.clone();
        pool.spawn(write_org(&format!("org{i}")), move |result| sent.send(result).unwrap());
    }
    // Four wait on the server, one per thread and connection; the other two wait their turn.
    eventually("4 writers waiting for the lock", || waiting_for_locks(&holder) == 4);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!((waiting_for_locks(&holder), pool.threads(), pool.counts().0), (4, 4, 4));
    assert!(results.try_recv().is_err());
    holder.script(&format!("SELECT pg_advisory_unlock({WRITE_LOCK})")).unwrap();
    let mut orgs: Vec<String> = (0..6).map(|_| results.recv_timeout(Duration::from_secs(10)).unwrap().unwrap()).collect();
    orgs.sort();
    assert_eq!(orgs, (0..6).map(|i| format!("org{i}")).collect::<Vec<_>>());
    pool.close();
    eventually("the threads to end", || pool.threads() == 0);
}

#[test]
fn spawn_after_close_and_work_queued_at_close_get_closed_and_the_threads_end() {
    let url = shared().fresh_database();
    let pool = PostgresPool::connect(&url, PgOptions { pool_size: 1, lock_timeout: Duration::from_secs(20), ..options() }).unwrap();
    let holder = PostgresPool::connect(&url, options()).unwrap();
    let holder = holder.get().unwrap();
    holder.script(&format!("SELECT pg_advisory_lock({WRITE_LOCK})")).unwrap();
    let (sent, results) = std::sync::mpsc::channel();
    for name in ["running", "queued"] {
        let sent = sent.clone();
        pool.spawn(write_org(name), move |result| sent.send((name, result)).unwrap());
    }
    eventually("the first writer waiting for the lock", || waiting_for_locks(&holder) == 1);
    pool.close();
    holder.script(&format!("SELECT pg_advisory_unlock({WRITE_LOCK})")).unwrap();
    let mut got: Vec<(&str, Result<String>)> = (0..2).map(|_| results.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
    got.sort_by_key(|(name, _)| *name);
    assert_eq!(got[0].1.as_ref().unwrap_err().code, "CLOSED", "queued");
    assert_eq!(got[1].1.as_ref().unwrap(), "running");
    eventually("the thread to end", || pool.threads() == 0);
    // Work given after the close still gets its answer.
    pool.spawn(write_org("late"), move |result| sent.send(("late", result)).unwrap());
    assert_eq!(results.recv_timeout(Duration::from_secs(10)).unwrap().1.unwrap_err().code, "CLOSED");
    eventually("the thread to end", || pool.threads() == 0);
}

#[test]
fn spawn_waiting_past_the_acquire_timeout_is_busy_unrun_and_a_panic_is_internal() {
    let pool = PostgresPool::connect(
        &shared().fresh_database(),
        PgOptions { pool_size: 1, acquire_timeout: Duration::from_millis(100), ..options() },
    )
    .unwrap();
    let (sent, results) = std::sync::mpsc::channel();
    let slow = sent.clone();
    pool.spawn(
        |_| {
            std::thread::sleep(Duration::from_millis(300));
            Ok("slow")
        },
        move |result| slow.send(result).unwrap(),
    );
    let late = sent.clone();
    pool.spawn(|_| -> Result<&str> { panic!("must not run: it waited too long") }, move |result| late.send(result).unwrap());
    assert_eq!(results.recv_timeout(Duration::from_secs(10)).unwrap().unwrap(), "slow");
    let busy = results.recv_timeout(Duration::from_secs(10)).unwrap().unwrap_err();
    assert_eq!((busy.code, busy.details.unwrap()["poolSize"].as_u64()), ("BUSY", Some(1)));
    // A panic is the call's error; the thread lives on.
    pool.spawn(|_| -> Result<&str> { panic!("a bug") }, move |result| sent.send(result).unwrap());
    assert_eq!(results.recv_timeout(Duration::from_secs(10)).unwrap().unwrap_err().code, "INTERNAL");
    assert_eq!(pool.threads(), 1);
}
