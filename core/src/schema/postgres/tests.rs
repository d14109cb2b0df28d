//! The PostgreSQL form against a real server (the engine's test server), and against the
//! SQLite schema it mirrors.

use super::*;
use crate::engine::postgres::testing::shared;
use crate::engine::Engine;
use crate::engine::postgres::{PgOptions, PostgresPool};
use crate::engine::sqlite::SqliteEngine;
use crate::error::Constraint;
use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::{Duration, Instant};

fn pool(size: usize) -> PostgresPool {
    PostgresPool::connect(&shared().fresh_database(), PgOptions { pool_size: size, ..PgOptions::default() }).unwrap()
}

/// The base tables (`postgres.sql`'s): every table but the usage rollups.
fn tables(conn: &Db) -> Vec<String> {
    conn.rows("SELECT tablename::text AS name FROM pg_catalog.pg_tables WHERE schemaname = current_schema() ORDER BY 1", &[], |r| r.get(0))
        .unwrap()
        .into_iter()
        .filter(|t: &String| !is_rollup(t))
        .collect()
}

#[test]
fn creates_the_tables_and_runs_again_without_change() {
    let pool = pool(2);
    let db = pool.get().unwrap();
    ensure(&db).unwrap();
    let mut expected: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(tables(&db), expected);
    assert_eq!(schema_version(&db).unwrap(), Some(VERSION));
    db.run("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('o1', 'o1', 'O', 1)", &[]).unwrap();
    ensure(&db).unwrap();
    // And by the whole script again, as a process that found an older version would.
    crate::db::write(&db, |c| c.script(TABLES_SQL)).unwrap();
    assert_eq!(tables(&db), expected);
    let orgs: i64 = (&db as &Db).one("SELECT COUNT(*) AS n FROM _smithers_cp_orgs", &[], |r| r.get(0)).unwrap();
    assert_eq!(orgs, 1);
    // Not on SQLite.
    let sqlite = SqliteEngine::open(":memory:").unwrap();
    assert_eq!(ensure(&sqlite).unwrap_err().code, "INTERNAL");
}

#[test]
fn processes_starting_together_both_create_it() {
    let pool = pool(3);
    let barrier = Barrier::new(3);
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let (pool, barrier) = (&pool, &barrier);
                s.spawn(move || {
                    let db = pool.get()?;
                    barrier.wait();
                    ensure(&db)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let db = pool.get().unwrap();
    assert_eq!(tables(&db).len(), TABLES.len());
    assert_eq!(schema_version(&db).unwrap(), Some(VERSION));
}

#[test]
fn creating_waits_for_the_migration_lock() {
    let pool = pool(2);
    let holder = pool.get().unwrap();
    holder.run("SELECT pg_advisory_lock(?1)", &[SqlValue::Int(MIGRATION_LOCK)]).unwrap();
    let started = Instant::now();
    std::thread::scope(|s| {
        let creating = s.spawn(|| ensure(&pool.get()?));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!creating.is_finished());
        holder.run("SELECT pg_advisory_unlock(?1)", &[SqlValue::Int(MIGRATION_LOCK)]).unwrap();
        creating.join().unwrap().unwrap();
    });
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(tables(&holder).len(), TABLES.len());
}

#[test]
fn keys_cascades_and_ids_work() {
    let pool = pool(2);
    let db = pool.get().unwrap();
    ensure(&db).unwrap();
    let db: &Db = &db;
    db.script(
        "INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('o1', 'one', 'One', 1);
         INSERT INTO _smithers_cp_teams VALUES ('o1', 't1', 'team', 'Team', 1);
         INSERT INTO _smithers_cp_team_members VALUES ('o1', 't1', 'u1', 'owner', 1);
         INSERT INTO _smithers_cp_projects (org_id, project_id, slug, name, created_at_ms) VALUES ('o1', 'p1', 'proj', 'P', 1);
         INSERT INTO _smithers_cp_project_teams VALUES ('o1', 'p1', 't1', 'admin', 1);",
    )
    .unwrap();
    let err = db.run("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('o2', 'one', 'Two', 1)", &[]).unwrap_err();
    assert_eq!(err.constraint, Some(Constraint::Unique));
    let err = db.run("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('o1', 'two', 'Two', 1)", &[]).unwrap_err();
    assert_eq!(err.constraint, Some(Constraint::PrimaryKey));
    let insert_usage = "INSERT INTO _smithers_cp_usage_events (org_id, project_id, metric, quantity, unit, observed_at_ms, idempotency_key)
                        VALUES (?1, ?2, 'tokens', ?3, 'count', 5, ?4) RETURNING id";
    assert_eq!(db.insert(insert_usage, params!["o1", "p1", 1.5, "k1"]).unwrap(), 1);
    assert_eq!(db.insert(insert_usage, params!["o1", None::<&str>, 2i64, None::<&str>]).unwrap(), 2);
    let err = db.insert(insert_usage, params!["o1", "missing", 1.0, None::<&str>]).unwrap_err();
    assert_eq!(err.constraint, Some(Constraint::ForeignKey));
    // The partial unique index: one key per org, any number of unkeyed events.
    let keyed = "INSERT INTO _smithers_cp_usage_events (org_id, metric, quantity, unit, observed_at_ms, idempotency_key)
                 VALUES ('o1', 'tokens', 1, 'count', 6, ?1)
                 ON CONFLICT (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id";
    assert_eq!(db.run(keyed, params!["k1"]).unwrap().changes, 0);
    assert_eq!(db.run(keyed, params![None::<&str>]).unwrap().changes, 1);
    assert_eq!(db.run(keyed, params![None::<&str>]).unwrap().changes, 1);
    let quantity: f64 = db.one("SELECT SUM(quantity) AS q FROM _smithers_cp_usage_events", &[], |r| r.get(0)).unwrap();
    assert_eq!(quantity, 5.5);
    // The org's removal takes everything of it along.
    db.run("DELETE FROM _smithers_cp_orgs WHERE org_id = 'o1'", &[]).unwrap();
    for table in ["_smithers_cp_teams", "_smithers_cp_team_members", "_smithers_cp_projects", "_smithers_cp_project_teams", "_smithers_cp_usage_events"] {
        let left: i64 = db.one(&format!("SELECT COUNT(*) AS n FROM {table}"), &[], |r| r.get(0)).unwrap();
        assert_eq!(left, 0, "{table}");
    }
}

/// A table's shape, engine-neutral: columns (name, type, not null, default, identity),
/// primary key, uniques, foreign keys and indexes, each as text.
#[derive(Debug, PartialEq, Default)]
struct Shape {
    columns: Vec<String>,
    primary_key: String,
    uniques: Vec<String>,
    foreign_keys: Vec<String>,
    indexes: Vec<String>,
}

fn sqlite_shape(conn: &rusqlite::Connection, table: &str) -> Shape {
    let strings = |sql: &str, arg: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([arg], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
    };
    let autoincrement = strings("SELECT sql FROM sqlite_master WHERE name = ?1", table)[0].contains("AUTOINCREMENT");
    let mut shape = Shape::default();
    let mut stmt = conn.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid").unwrap();
    let columns = stmt
        .query_map([table], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?, r.get::<_, Option<String>>(3)?, r.get::<_, i64>(4)?)))
        .unwrap();
    for column in columns {
        let (name, ty, not_null, default, pk) = column.unwrap();
        let ty = match ty.as_str() {
            "INTEGER" => "bigint",
            "REAL" => "double precision",
            "TEXT" => "text",
            other => panic!("{table}.{name}: a type the PostgreSQL form has no rule for: {other}"),
        };
        // PostgreSQL's primary keys are NOT NULL; SQLite's are not unless said.
        let not_null = not_null || pk > 0;
        let identity = autoincrement && pk > 0;
        shape.columns.push(format!("{name} {ty} not_null={not_null} default={default:?} identity={identity}"));
    }
    shape.primary_key = strings("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", table).join(",");
    let index_columns = |index: &str| strings("SELECT name FROM pragma_index_info(?1) ORDER BY seqno", index).join(",");
    let mut stmt = conn.prepare("SELECT name, origin, \"unique\", partial FROM pragma_index_list(?1)").unwrap();
    let indexes = stmt.query_map([table], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?, r.get::<_, bool>(3)?))).unwrap();
    for index in indexes {
        let (name, origin, unique, partial) = index.unwrap();
        match origin.as_str() {
            "u" => shape.uniques.push(index_columns(&name)),
            "c" => shape.indexes.push(format!("{name} ({}) unique={unique} partial={partial}", index_columns(&name))),
            _ => {}
        }
    }
    let mut stmt = conn.prepare("SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq").unwrap();
    let mut keys: BTreeMap<i64, (String, Vec<String>, Vec<String>, String)> = BTreeMap::new();
    let rows = stmt.query_map([table], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?, r.get::<_, String>(4)?))).unwrap();
    for row in rows {
        let (id, to_table, from, to, on_delete) = row.unwrap();
        let key = keys.entry(id).or_insert_with(|| (to_table, vec![], vec![], on_delete));
        key.1.push(from);
        key.2.push(to);
    }
    shape.foreign_keys =
        keys.into_values().map(|(to_table, from, to, on_delete)| format!("({}) -> {to_table}({}) on delete {on_delete}", from.join(","), to.join(","))).collect();
    shape.uniques.sort();
    shape.indexes.sort();
    shape.foreign_keys.sort();
    shape
}

/// The column list of a key or index of `relation`, in order.
const KEY_COLUMNS: &str = "(SELECT string_agg(a.attname::text, ',' ORDER BY k.n) FROM unnest({keys}) WITH ORDINALITY AS k(attnum, n)
                            JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.attnum)";

fn key_columns(keys: &str, relation: &str) -> String {
    KEY_COLUMNS.replace("{keys}", keys).replace("{relation}", relation)
}

fn postgres_shape(conn: &Db, table: &str) -> Shape {
    let columns = conn
        .rows(
            // A column is numbered as AUTOINCREMENT numbers when it is the `id` of a table
            // with the numbering trigger (`_smithers_cp_next_id`).
            "SELECT column_name::text AS name, data_type::text AS type, is_nullable::text AS nullable,
                    column_default::text AS dflt,
                    CASE WHEN is_identity = 'YES' OR (column_name = 'id' AND EXISTS (
                      SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                      WHERE t.tgrelid = CAST(quote_ident(?1) AS regclass) AND p.proname = '_smithers_cp_next_id'))
                    THEN 'YES' ELSE 'NO' END AS identity
             FROM information_schema.columns WHERE table_schema::text = current_schema() AND table_name::text = ?1
             ORDER BY ordinal_position",
            params![table],
            |r| {
                // 'active'::text is SQLite's 'active'.
                let default: Option<String> = r.get(3)?;
                let default = default.map(|d| d.trim_end_matches("::text").to_string());
                Ok(format!(
                    "{} {} not_null={} default={default:?} identity={}",
                    r.get::<&str>(0)?,
                    r.get::<&str>(1)?,
                    r.get::<&str>(2)? == "NO",
                    r.get::<&str>(4)? == "YES"
                ))
            },
        )
        .unwrap();
    let mut shape = Shape { columns, ..Shape::default() };
    let constraints = conn
        .rows(
            &format!(
                "SELECT c.contype::text AS kind, {cols} AS cols,
                        CASE WHEN c.contype = 'f' THEN c.confrelid::regclass::text ELSE '' END AS ref_table,
                        CASE WHEN c.contype = 'f' THEN {ref_cols} ELSE '' END AS ref_cols,
                        CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' ELSE c.confdeltype::text END AS on_delete
                 FROM pg_constraint c WHERE c.conrelid = to_regclass(?1) AND c.contype IN ('p', 'u', 'f')",
                cols = key_columns("c.conkey", "c.conrelid"),
                ref_cols = key_columns("c.confkey", "c.confrelid"),
            ),
            params![table],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<String>(2)?, r.get::<String>(3)?, r.get::<String>(4)?)),
        )
        .unwrap();
    for (kind, cols, to_table, to_cols, on_delete) in constraints {
        match kind.as_str() {
            "p" => shape.primary_key = cols,
            "u" => shape.uniques.push(cols),
            _ => shape.foreign_keys.push(format!("({cols}) -> {to_table}({to_cols}) on delete {on_delete}")),
        }
    }
    shape.indexes = conn
        .rows(
            &format!(
                "SELECT i.relname::text AS name, {cols} AS cols, x.indisunique AS uniq, x.indpred IS NOT NULL AS partial
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                 WHERE x.indrelid = to_regclass(?1)
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)",
                cols = key_columns("x.indkey::int2[]", "x.indrelid"),
            ),
            params![table],
            |r| Ok(format!("{} ({}) unique={} partial={}", r.get::<&str>(0)?, r.get::<&str>(1)?, r.get::<bool>(2)?, r.get::<bool>(3)?)),
        )
        .unwrap();
    shape.uniques.sort();
    shape.indexes.sort();
    shape.foreign_keys.sort();
    shape
}

/// The usage rollups' tables: not in the PostgreSQL form (yet).
fn is_rollup(table: &str) -> bool {
    table.starts_with("_smithers_cp_usage_") && !["_smithers_cp_usage_events", "_smithers_cp_usage_limits", "_smithers_cp_usage_corrections"].contains(&table)
}

#[test]
fn mirrors_the_sqlite_schema_table_by_table() {
    let sqlite = SqliteEngine::open(":memory:").unwrap();
    crate::schema::ensure(&sqlite).unwrap();
    let mut stmt = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_smithers\\_cp\\_%' ESCAPE '\\' ORDER BY name")
        .unwrap();
    let sqlite_tables: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).filter(|t: &String| !is_rollup(t)).collect();
    let pool = pool(1);
    let db = pool.get().unwrap();
    ensure(&db).unwrap();
    // `_smithers_cp_sequence` is SQLite's own sqlite_sequence.
    let postgres_tables: Vec<String> = tables(&db).into_iter().filter(|t| t != "_smithers_cp_sequence").collect();
    assert_eq!(postgres_tables, sqlite_tables, "the PostgreSQL form has the SQLite schema's base tables");
    for table in &sqlite_tables {
        let mut shape = postgres_shape(&db, table);
        // PostgreSQL's own: an org's usage events by id, its rollups' tail (SQLite has one
        // tail for every org, read by the rowid).
        shape.indexes.retain(|i| !i.starts_with("_smithers_cp_usage_org_id_idx "));
        assert_eq!(shape, sqlite_shape(&sqlite, table), "{table}");
    }
}

#[test]
fn a_database_a_newer_store_upgraded_is_refused_and_left_as_it_is() {
    let pool = pool(1);
    let db = pool.get().unwrap();
    ensure(&db).unwrap();
    db.script("UPDATE _smithers_cp_native_meta SET value = '99' WHERE key = 'schema_version'").unwrap();
    let err = ensure(&db).unwrap_err();
    assert_eq!(err.code, "UNAVAILABLE");
    assert!(err.summary.contains("schema is version 99, newer than this store's"), "{}", err.summary);
    assert_eq!(err.details.unwrap()["transient"], false);
    assert_eq!(schema_version(&db).unwrap(), Some(99));
}

#[test]
fn an_upgrade_from_version_3_numbers_on_after_the_highest_id_ever() {
    let pool = pool(1);
    let db = pool.get().unwrap();
    ensure(&db).unwrap();
    db.script(
        "INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('o', 'o', 'O', 1);
         INSERT INTO _smithers_cp_usage_events (id, org_id, metric, quantity, unit, observed_at_ms) VALUES (7, 'o', 'm', 1, 'u', 1);",
    )
    .unwrap();
    // As version 3 left a database: no sequences, the highest ids ever in _smithers_cp_sequence
    // (9: an event above the last one left was deleted).
    db.script(
        "DROP SEQUENCE _smithers_cp_usage_events_id_seq; DROP SEQUENCE _smithers_cp_audit_events_id_seq;
         UPDATE _smithers_cp_sequence SET seq = 9 WHERE name = '_smithers_cp_usage_events';
         UPDATE _smithers_cp_native_meta SET value = '3' WHERE key = 'schema_version';",
    )
    .unwrap();
    ensure(&db).unwrap();
    assert_eq!(schema_version(&db).unwrap(), Some(VERSION));
    let id: i64 = (&db as &Db)
        .one("INSERT INTO _smithers_cp_usage_events (org_id, metric, quantity, unit, observed_at_ms) VALUES ('o', 'm', 1, 'u', 2) RETURNING id", &[], |r| r.get(0))
        .unwrap();
    assert_eq!(id, 10);
}
