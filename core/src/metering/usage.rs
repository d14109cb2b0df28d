//! Usage events: recording (one, a batch, idempotently) and the sums over them, which are
//! read from the rollups (see `rollups`).

use crate::engine::Both;
use crate::db;
use crate::error::{is_constraint, Constraint, CpError, Result};
use crate::tenancy::orgs::{self, WriteKind};
use crate::parents::Parents;
use crate::metering::rollups::{self, Series, ALL, DAY, HOUR, LEVELS, MINUTE, NO_PROJECT, SECOND, TENTH};
use crate::validate::{parse_metadata, Input, MAX_SAFE_INTEGER};
use crate::db::Db;
use crate::engine::{Built, Dialect, SqlValue, ToSql};
use crate::params;
use crate::request::{FromInput, JsonObject, RequestContext};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use ts_rs::TS;

/// A usage event as recorded.
#[derive(Debug, Default, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneUsageEvent")]
pub struct UsageEvent {
    pub id: i64,
    pub org_id: String,
    pub project_id: Option<String>,
    pub run_id: Option<String>,
    pub metric: String,
    pub quantity: f64,
    pub unit: String,
    pub observed_at_ms: i64,
    #[ts(type = "Record<string, unknown>")]
    pub metadata: Value,
    /// Present only for events recorded with a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub idempotency_key: Option<String>,
    /// With a key: `true` when the key had been seen and this is the event first recorded
    /// with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub duplicate: Option<bool>,
}

/// The quantity of one metric and unit in a window: the default summary's row.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneUsageSummary")]
pub struct UsageSummary {
    pub org_id: String,
    pub metric: String,
    pub unit: String,
    pub quantity: f64,
}

/// `recordUsage`'s and `consumeUsage`'s input: a usage event about to be recorded,
/// validated, its defaults filled in as it is read.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneUsageInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct NewUsage {
    pub org_id: String,
    pub project_id: Option<String>,
    pub run_id: Option<String>,
    pub metric: String,
    /// A finite number >= 0.
    pub quantity: f64,
    /// `count` when missing.
    #[ts(as = "Option<String>")]
    pub unit: String,
    /// Now when missing.
    #[ts(as = "Option<i64>")]
    pub observed_at_ms: i64,
    /// Whether the caller gave `observedAtMs` (a retry that did not may differ in it).
    #[ts(skip)]
    observed_given: bool,
    /// A JSON object (at most 64 KiB of JSON, 16 levels deep); `{}` when missing.
    #[ts(as = "Option<JsonObject>")]
    pub metadata: Value,
    /// `metadata` as the JSON text stored, written once as it is read.
    #[ts(skip)]
    metadata_json: String,
    /// The same key in the same org records once (at most 255 characters).
    pub idempotency_key: Option<String>,
}

impl FromInput for NewUsage {
    const FIELDS: &'static [&'static str] = &["orgId", "projectId", "runId", "metric", "quantity", "unit", "observedAtMs", "metadata", "idempotencyKey"];

    fn from_input(input: &Input) -> Result<NewUsage> {
        let org_id = input.id("orgId")?;
        let project_id = input.opt_id("projectId")?;
        let observed_given = input.get("observedAtMs").is_some();
        let observed_at_ms = input.timestamp("observedAtMs")?;
        let (metadata, metadata_json) = input.metadata("metadata")?;
        let run_id = input.opt_id("runId")?;
        let metric = input.string("metric")?;
        let quantity = input.non_negative("quantity")?;
        let unit = input.string_or("unit", "count")?;
        let idempotency_key = input.idempotency_key("idempotencyKey")?;
        Ok(NewUsage {
            org_id,
            project_id,
            run_id,
            metric,
            quantity,
            unit,
            observed_at_ms,
            observed_given,
            metadata,
            metadata_json,
            idempotency_key,
        })
    }
}

impl NewUsage {
    pub(crate) fn parents(&self) -> Parents<'_> {
        Parents::project(&self.org_id, self.project_id.as_deref())
    }

    pub(crate) fn event(&self, id: i64, duplicate: Option<bool>) -> UsageEvent {
        UsageEvent {
            id,
            org_id: self.org_id.clone(),
            project_id: self.project_id.clone(),
            run_id: self.run_id.clone(),
            metric: self.metric.clone(),
            quantity: self.quantity,
            unit: self.unit.clone(),
            observed_at_ms: self.observed_at_ms,
            metadata: self.metadata.clone(),
            idempotency_key: self.idempotency_key.clone(),
            duplicate,
        }
    }

    /// The event first recorded with this key, if any; `IDEMPOTENCY_CONFLICT` when it
    /// differs from this one.
    pub(crate) fn find_duplicate(&self, conn: &Db) -> Result<Option<UsageEvent>> {
        let Some(key) = &self.idempotency_key else { return Ok(None) };
        let existing = conn
            .row(
                "SELECT id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata_json
                 FROM _smithers_cp_usage_events WHERE org_id = ?1 AND idempotency_key = ?2",
            params![self.org_id, key], |r| {
                Ok(UsageEvent {
                    id: r.get(0)?,
                    org_id: self.org_id.clone(),
                    project_id: r.get(1)?,
                    run_id: r.get(2)?,
                    metric: r.get(3)?,
                    quantity: r.get(4)?,
                    unit: r.get(5)?,
                    observed_at_ms: r.get(6)?,
                    metadata: parse_metadata(&r.get::<String>(7)?),
                    idempotency_key: Some(key.clone()),
                    duplicate: Some(true),
                })
            })?;
        let Some(existing) = existing else { return Ok(None) };
        let same = existing.project_id == self.project_id
            && existing.run_id == self.run_id
            && existing.metric == self.metric
            && existing.quantity == self.quantity
            && existing.unit == self.unit
            && (!self.observed_given || existing.observed_at_ms == self.observed_at_ms)
            && existing.metadata == self.metadata;
        if !same {
            return Err(CpError::new(
                "IDEMPOTENCY_CONFLICT",
                format!("Usage event {key} was already recorded with different content."),
                Some(json!({ "orgId": self.org_id, "idempotencyKey": key, "existingId": existing.id })),
            ));
        }
        Ok(Some(existing))
    }

    /// Inserts the event (it joins the rollups' tail; see `rollups`).
    pub(crate) fn insert(&self, conn: &Db) -> Result<i64> {
        static SQL: Built = Built::new();
        conn.insert(SQL.get(conn.dialect(), |d| insert_sql(d, 1)), &self.values()).map_err(|e| self.insert_error(conn, e))
    }

    /// An insert's failure as the caller's error: a missing project by name.
    pub(crate) fn insert_error(&self, conn: &Db, e: CpError) -> CpError {
        if is_constraint(&e, Constraint::Unique) {
            // Only reachable if another connection wrote the key between our check and
            // insert, which one statement (or BEGIN IMMEDIATE) rules out; kept as a clear
            // error regardless.
            CpError::new("IDEMPOTENCY_CONFLICT", "Usage event key was recorded concurrently.", None)
        } else {
            self.parents().explain(conn, e)
        }
    }

    /// The values of a row, in `insert_sql`'s column order.
    pub(crate) fn values(&self) -> [SqlValue<'_>; 9] {
        [
            self.org_id.to_sql(),
            self.project_id.to_sql(),
            self.run_id.to_sql(),
            self.metric.to_sql(),
            self.quantity.to_sql(),
            self.unit.to_sql(),
            self.observed_at_ms.to_sql(),
            self.metadata_json.to_sql(),
            self.idempotency_key.to_sql(),
        ]
    }

    /// Records the event, or returns the original for a repeated key. Runs in the caller's
    /// transaction.
    pub(crate) fn record_in(&self, conn: &Db) -> Result<UsageEvent> {
        if let Some(existing) = self.find_duplicate(conn)? {
            return Ok(existing);
        }
        let id = self.insert(conn)?;
        Ok(self.event(id, self.idempotency_key.as_ref().map(|_| false)))
    }
}

/// `recordUsage`: one event, or the one first recorded with its idempotency key.
///
/// One statement on the way that records: the INSERT itself checks that the org takes
/// writes and that the key is new (one statement is atomic, its triggers included, so no
/// transaction is opened around it), and the event is built from the input and the new
/// id, not read back. When it inserts nothing, the reason is looked up: the org's state
/// (an error), the key's first event (returned, or a conflict), or, if neither (the
/// org changed in between), the event is recorded the long way in a write transaction.
/// Every `TAIL_MAX`-th id also folds the tail: one more statement on SQLite, in the same
/// statement on PostgreSQL (where a statement is a round trip).
pub fn record(conn: &Db, _ctx: &RequestContext, usage: NewUsage) -> Result<UsageEvent> {
    static SQL: Built = Built::new();
    let sql = SQL.get(conn.dialect(), |d| match d {
        Dialect::Sqlite => format!(
            "{INSERT_COLUMNS} SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
             WHERE EXISTS (SELECT 1 FROM _smithers_cp_orgs WHERE org_id = ?1 AND status <> 'deleted')
               AND (?9 IS NULL OR NOT EXISTS (SELECT 1 FROM _smithers_cp_usage_events WHERE org_id = ?1 AND idempotency_key = ?9))"
        ),
        // A SELECT's bare parameters are TEXT to PostgreSQL: the numbers are cast. The org's
        // write locks are taken first (`lock`, materialized before the row is made, so
        // before its id is drawn): an org's ids commit in order, as its rollups' watermark
        // needs, and the statement waits for no other org's writers. Once the org's own
        // tail holds `TAIL_MAX` events (this one with those before it: `tail`, read in the
        // statement's snapshot, so without it), the statement folds it, under the same
        // locks, a failed fold undone alone (`_smithers_cp_usage_fold_quietly`): upkeep adds
        // no round trip to the call, and cannot fail it. (Every `TAIL_MAX`-th id, as on
        // SQLite, would leave one org's tail to grow now and then: ids are numbered across
        // orgs.) `?10` is the lock_timeout the statement sets for itself, where the session
        // has none of ours (`Engine::statement_lock_timeout`), before it waits for the locks.
        Dialect::Postgres => format!(
            "WITH timeout AS MATERIALIZED (SELECT set_config('lock_timeout', COALESCE(CAST(?10 AS TEXT), current_setting('lock_timeout')), true) AS ms),
             lock AS MATERIALIZED (SELECT {locks} FROM timeout),
             ins AS ({INSERT_COLUMNS} SELECT ?1, ?2, ?3, ?4, CAST(?5 AS DOUBLE PRECISION), ?6, CAST(?7 AS BIGINT), ?8, CAST(?9 AS TEXT)
               FROM lock
               WHERE EXISTS (SELECT 1 FROM _smithers_cp_orgs WHERE org_id = ?1 AND status <> 'deleted')
                 AND (CAST(?9 AS TEXT) IS NULL
                      OR NOT EXISTS (SELECT 1 FROM _smithers_cp_usage_events WHERE org_id = ?1 AND idempotency_key = ?9))
               RETURNING id)
             SELECT id, CASE WHEN (SELECT {tail}) >= {before} THEN _smithers_cp_usage_fold_quietly(?1) END AS folded FROM ins",
            locks = crate::engine::postgres::org_locks("?1"),
            tail = rollups::tail_length_postgres("?1"),
            before = rollups::TAIL_MAX - 1,
        ),
    });
    // PostgreSQL's form takes its lock_timeout as a tenth parameter; SQLite's runs on the
    // nine values as they are (no copy on its hot path).
    let lock_timeout = conn.statement_lock_timeout();
    let values = usage.values();
    let run = match conn.dialect() {
        Dialect::Sqlite => conn.run(sql, &values),
        Dialect::Postgres => {
            let mut with_timeout = values.to_vec();
            with_timeout.push(crate::engine::ToSql::to_sql(&lock_timeout));
            conn.run(sql, &with_timeout)
        }
    };
    let done = match run {
        Ok(done) => done,
        // The same key recorded by another writer that committed after this statement's
        // snapshot was taken (on PostgreSQL, while the statement waited for the org's
        // lock): that writer's event is the one, and it is committed now.
        Err(e) if usage.idempotency_key.is_some() && is_constraint(&e, Constraint::Unique) => {
            if let Some(existing) = usage.find_duplicate(conn)? {
                return Ok(existing);
            }
            return Err(usage.insert_error(conn, e));
        }
        Err(e) => return Err(usage.insert_error(conn, e)),
    };
    if done.changes == 1 {
        // The event is recorded: folding is upkeep, and its failure (a lock not had in
        // time) must not make a caller think it was not. The tail stays one fold longer.
        // (PostgreSQL's statement folded already.)
        if conn.dialect() == Dialect::Sqlite {
            let _ = rollups::fold_if_crossed(conn, &usage.org_id, done.last_insert_id, done.last_insert_id);
        }
        return Ok(usage.event(done.last_insert_id, usage.idempotency_key.as_ref().map(|_| false)));
    }
    orgs::guard(conn, &usage.org_id, WriteKind::Other)?;
    if let Some(existing) = usage.find_duplicate(conn)? {
        return Ok(existing);
    }
    let event = db::write_org(conn, &usage.org_id, |c| {
        orgs::guard(c, &usage.org_id, WriteKind::Other)?;
        usage.record_in(c)
    })?;
    let _ = rollups::fold_if_crossed(conn, &usage.org_id, event.id, event.id);
    Ok(event)
}

/// What `recordUsageBatch` hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, TS)]
#[ts(rename = "ControlPlaneUsageBatchReturning", rename_all = "lowercase")]
pub enum Returning {
    /// Each event as recorded.
    #[default]
    Events,
    /// Only their ids, in the batch's order.
    Ids,
}

/// `recordUsageBatch`'s input: the events, each read as `recordUsage` reads one.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneRecordUsageBatchInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct RecordUsageBatch {
    pub events: Vec<NewUsage>,
    /// `events` when missing.
    pub returning: Option<Returning>,
}

impl FromInput for RecordUsageBatch {
    fn from_input(input: &Input) -> Result<Self> {
        let Some(items) = input.inputs("events") else {
            return Err(CpError::field("events", "events must be an array."));
        };
        let returning = match input.string_or("returning", "events")?.as_str() {
            "events" => Returning::Events,
            "ids" => Returning::Ids,
            _ => return Err(CpError::field("returning", "returning must be one of: events, ids.")),
        };
        let events = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| item.and_then(|input| NewUsage::from_input(&input)).map_err(|e| at_index(e, i)))
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordUsageBatch { events, returning: Some(returning) })
    }
}

/// What `recordUsageBatch` recorded: the events, or (`returning: "ids"`) their ids.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(untagged)]
#[ts(rename = "ControlPlaneUsageBatch")]
pub enum UsageBatch {
    Events(Vec<UsageEvent>),
    Ids(UsageIds),
}

/// The ids of a batch's events, in the batch's order.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(rename = "ControlPlaneUsageIds")]
pub struct UsageIds {
    pub count: usize,
    pub ids: Vec<i64>,
}

/// `recordUsageBatch`: every event or none, in one transaction.
pub fn record_batch(conn: &Db, _ctx: &RequestContext, req: RecordUsageBatch) -> Result<UsageBatch> {
    record_all(conn, req.events, req.returning.unwrap_or_default())
}

/// Records a validated batch: every event or none, in one transaction.
fn record_all(conn: &Db, batch: Vec<NewUsage>, returning: Returning) -> Result<UsageBatch> {
    // One org's events in its write scope; events of several orgs in one that spans orgs.
    let first_org = batch.first().map(|u| u.org_id.as_str()).unwrap_or_default();
    let one_org = batch.iter().all(|u| u.org_id == first_org);
    let write = |c: &Db| {
        let mut ids = vec![0i64; batch.len()];
        // Keyed events, as recorded or as first recorded (a repeat).
        let mut keyed: Vec<(usize, UsageEvent)> = Vec::new();
        let mut guarded: Vec<&str> = Vec::new();
        // Unkeyed events waiting to be inserted together; flushed before a keyed one, so
        // ids follow the batch's order.
        let mut pending: Vec<usize> = Vec::with_capacity(ROWS_PER_INSERT);
        for (i, usage) in batch.iter().enumerate() {
            if !guarded.contains(&usage.org_id.as_str()) {
                orgs::guard(c, &usage.org_id, WriteKind::Other).map_err(|e| at_index(e, i))?;
                guarded.push(&usage.org_id);
            }
            if usage.idempotency_key.is_none() {
                pending.push(i);
                if pending.len() == ROWS_PER_INSERT {
                    insert_pending(c, &batch, &mut pending, &mut ids)?;
                }
                continue;
            }
            insert_pending(c, &batch, &mut pending, &mut ids)?;
            let event = usage.record_in(c).map_err(|e| at_index(e, i))?;
            ids[i] = event.id;
            keyed.push((i, event));
        }
        insert_pending(c, &batch, &mut pending, &mut ids)?;
        if let (Some(&first), Some(&last)) = (ids.iter().min(), ids.iter().max()) {
            for org_id in &guarded {
                rollups::fold_if_crossed(c, org_id, first, last)?;
                if c.dialect() == Dialect::Sqlite {
                    break; // one tail for every org
                }
            }
        }
        Ok(match returning {
            Returning::Events => {
                let mut keyed = keyed.into_iter().peekable();
                let events: Vec<UsageEvent> = batch
                    .iter()
                    .enumerate()
                    .map(|(i, usage)| match keyed.next_if(|(k, _)| *k == i) {
                        Some((_, event)) => event,
                        None => usage.event(ids[i], None),
                    })
                    .collect();
                UsageBatch::Events(events)
            }
            Returning::Ids => UsageBatch::Ids(UsageIds { count: ids.len(), ids }),
        })
    };
    if one_org {
        db::write_org(conn, first_org, write)
    } else {
        db::write(conn, write)
    }
}

/// How many unkeyed events of a batch one INSERT statement carries: a statement per row
/// costs more than its row.
const ROWS_PER_INSERT: usize = 32;

/// Inserts the pending events of a batch: a full set in one statement, fewer one by one.
/// Ids are consecutive within the statement (AUTOINCREMENT under our write lock). When
/// the statement fails (a missing project), its rows are tried one by one to name the
/// event at fault.
fn insert_pending(conn: &Db, batch: &[NewUsage], pending: &mut Vec<usize>, ids: &mut [i64]) -> Result<()> {
    if pending.len() == ROWS_PER_INSERT {
        static SQL: Built = Built::new();
        let values: Vec<SqlValue> = pending.iter().flat_map(|&i| batch[i].values()).collect();
        let sql = SQL.get(conn.dialect(), |d| insert_sql(d, ROWS_PER_INSERT));
        let inserted = match conn.dialect() {
            Dialect::Sqlite => conn.insert(sql, &values).map(|last| (0..pending.len() as i64).map(|k| last - k).rev().collect()),
            // Every row's id as returned, in the rows' order.
            Dialect::Postgres => conn.rows(sql, &values, |r| r.get::<i64>(0)),
        };
        if let Ok(inserted) = inserted {
            for (&id, &i) in inserted.iter().zip(pending.iter()) {
                ids[i] = id;
            }
            pending.clear();
            return Ok(());
        }
        // The failed statement changed nothing; the loop below names the event at fault.
    }
    for &i in pending.iter() {
        ids[i] = batch[i].insert(conn).map_err(|e| at_index(e, i))?;
    }
    pending.clear();
    Ok(())
}

/// The head of every insert of usage events; `NewUsage::values` gives a row's values in
/// this order.
const INSERT_COLUMNS: &str = "INSERT INTO _smithers_cp_usage_events
  (org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata_json, idempotency_key)";

/// An INSERT of `rows` usage events, nine parameters a row (`NewUsage::values`).
/// PostgreSQL's form returns the ids.
fn insert_sql(d: Dialect, rows: usize) -> String {
    let row = |k: usize| format!("({})", (9 * k + 1..=9 * k + 9).map(|p| format!("?{p}")).collect::<Vec<_>>().join(","));
    format!("{INSERT_COLUMNS} VALUES {}{}", (0..rows).map(row).collect::<Vec<_>>().join(","), Both { sqlite: "", postgres: " RETURNING id" }.pick(d))
}

/// Names the batch index in an error about one event.
fn at_index(mut err: CpError, index: usize) -> CpError {
    err.summary = format!("events[{index}]: {}", err.summary);
    let mut details = match err.details.take() {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    details.insert("index".into(), json!(index));
    err.details = Some(Value::Object(details));
    err
}

/// A usage window, both ends inclusive; all time when neither end is given.
#[derive(Clone, Copy, Debug, PartialEq, TS)]
#[ts(rename = "ControlPlaneUsageWindow", rename_all = "camelCase", optional_fields = nullable)]
pub struct Window {
    /// 0 when missing.
    #[ts(as = "Option<i64>")]
    pub since_ms: i64,
    /// The end of time when missing.
    #[ts(as = "Option<i64>")]
    pub until_ms: i64,
}

impl FromInput for Window {
    /// `sinceMs` / `untilMs` from the input, defaulting to all time.
    fn from_input(input: &Input) -> Result<Window> {
        Ok(Window {
            since_ms: input.timestamp_or("sinceMs", 0)?,
            until_ms: input.timestamp_or("untilMs", MAX_SAFE_INTEGER)?,
        })
    }
}

/// The quantity used in a window: one project's events, or every event of the org.
#[cfg(test)]
pub(crate) fn used(conn: &Db, org_id: &str, project_id: Option<&str>, metric: &str, unit: &str, window: Window) -> Result<f64> {
    let series = Series { org_id, scope: project_id.unwrap_or(ALL), metric, unit };
    Ok(rollups::total(conn, &series, window.since_ms, window.until_ms)?.0)
}

/// The dimensions a summary can group by.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, TS)]
#[ts(rename = "ControlPlaneUsageDimension", rename_all = "camelCase")]
pub enum Dimension {
    ProjectId,
    Metric,
    Unit,
}

/// The time buckets a summary can sum by: hours, days, or UTC calendar months.
#[derive(Clone, Copy, PartialEq, Eq, Debug, TS)]
#[ts(rename = "ControlPlaneUsageBucket", rename_all = "lowercase")]
pub enum Bucket {
    Hour,
    Day,
    Month,
}

/// `summarizeUsage`'s input: which events a summary reads, and how it groups them.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneUsageSummaryInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct SummarizeUsage {
    pub org_id: String,
    #[ts(flatten)]
    pub window: Window,
    /// Absent: every event; `null`: events without a project; an id: that project's.
    #[ts(as = "Option<String>")]
    pub project_id: Option<Option<String>>,
    pub metric: Option<String>,
    /// `["metric", "unit"]` when missing.
    #[ts(as = "Option<Vec<Dimension>>")]
    pub group_by: Vec<Dimension>,
    /// Not bucketed in time when missing.
    pub bucket: Option<Bucket>,
}

impl FromInput for SummarizeUsage {
    fn from_input(input: &Input) -> Result<SummarizeUsage> {
        let org_id = input.id("orgId")?;
        let window = Window::from_input(input)?;
        let project = if input.has("projectId") { Some(input.opt_id("projectId")?) } else { None };
        let metric = if input.get("metric").is_some() { Some(input.string("metric")?) } else { None };
        let group_by = match input.get("groupBy") {
            None => vec![Dimension::Metric, Dimension::Unit],
            Some(Value::Array(names)) => {
                let mut dims = Vec::new();
                for name in names {
                    let dim = match name.as_str() {
                        Some("projectId") => Dimension::ProjectId,
                        Some("metric") => Dimension::Metric,
                        Some("unit") => Dimension::Unit,
                        _ => return Err(group_by_error()),
                    };
                    if !dims.contains(&dim) {
                        dims.push(dim);
                    }
                }
                dims.sort();
                dims
            }
            Some(_) => return Err(group_by_error()),
        };
        let bucket = match input.get("bucket") {
            None => None,
            Some(Value::String(s)) if s == "hour" => Some(Bucket::Hour),
            Some(Value::String(s)) if s == "day" => Some(Bucket::Day),
            Some(Value::String(s)) if s == "month" => Some(Bucket::Month),
            Some(_) => return Err(CpError::field("bucket", "bucket must be one of: hour, day, month.")),
        };
        Ok(SummarizeUsage { org_id, window, project_id: project, metric, group_by, bucket })
    }
}

impl SummarizeUsage {
    fn default_for(org_id: &str, window: Window) -> SummarizeUsage {
        SummarizeUsage {
            org_id: org_id.to_string(),
            window,
            project_id: None,
            metric: None,
            group_by: vec![Dimension::Metric, Dimension::Unit],
            bucket: None,
        }
    }
}

fn group_by_error() -> CpError {
    CpError::field("groupBy", "groupBy must be an array of: projectId, metric, unit.")
}

/// Start of the UTC calendar month holding `ms` (days-from-civil, H. Hinnant's algorithm).
fn month_start(ms: i64) -> i64 {
    let z = ms.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let first_of_month = z - (doy - (153 * mp + 2) / 5) - 719_468;
    first_of_month * DAY
}

/// A row of a summary: the grouped fields are present, the others not.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneUsageGroup")]
pub struct UsageGroup {
    pub org_id: String,
    /// Start of the hour, day or UTC calendar month, when bucketed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub bucket_start_ms: Option<i64>,
    /// When grouped by project: the project, or `null` for events without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub project_id: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub metric: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub unit: Option<String>,
    pub quantity: f64,
}

type GroupKey = (Option<i64>, Option<Option<String>>, Option<String>, Option<String>);

fn summarize_query(conn: &Db, q: &SummarizeUsage) -> Result<Vec<UsageGroup>> {
    let by_project = q.group_by.contains(&Dimension::ProjectId);
    let levels: &[i64] = match q.bucket {
        Some(Bucket::Hour) => &[TENTH, SECOND, MINUTE, HOUR],
        _ => &LEVELS,
    };
    // Per-project scopes when projects are grouped or filtered; the org total otherwise.
    let scopes: Option<String> = match &q.project_id {
        Some(project) => Some(project.clone().unwrap_or_else(|| NO_PROJECT.to_string())),
        None if by_project => None,
        None => Some(ALL.to_string()),
    };
    // The series seen so far: those folded into the rollups, and those of the tail.
    let tail = rollups::tail(conn, &q.org_id)?;
    let watermark = tail.0;
    let series: Vec<(String, String, String)> = conn.rows(&format!(
        "SELECT scope, metric, unit FROM (
           SELECT scope, metric, unit FROM _smithers_cp_usage_series WHERE org_id = ?1
           UNION
           SELECT '{ALL}', metric, unit FROM {tail} WHERE id > ?4 AND org_id = ?1
           UNION
           SELECT COALESCE(project_id, '{NO_PROJECT}'), metric, unit FROM {tail}
           WHERE id > ?4 AND org_id = ?1
         ){alias}
         WHERE ({p2} IS NULL AND scope != '{ALL}' OR scope = ?2) AND ({p3} IS NULL OR metric = ?3)
         ORDER BY scope, metric, unit",
        tail = crate::metering::rollups::tail_events(conn.dialect(), "?1", "?4"),
        alias = conn.pick(Both { sqlite: "", postgres: " AS seen" }),
        p2 = conn.dialect().text_param(2),
        p3 = conn.dialect().text_param(3),
    ), params![q.org_id, scopes, q.metric, watermark], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;

    let mut groups: BTreeMap<GroupKey, (f64, i64)> = BTreeMap::new();
    for (scope, metric, unit) in &series {
        let s = Series { org_id: &q.org_id, scope, metric, unit };
        let project = (scope != NO_PROJECT).then(|| scope.clone());
        rollups::for_each(conn, tail, &s, levels, q.window.since_ms, q.window.until_ms, |at, quantity, events| {
            let key: GroupKey = (
                q.bucket.map(|b| match b {
                    Bucket::Hour => at - at.rem_euclid(HOUR),
                    Bucket::Day => at - at.rem_euclid(DAY),
                    Bucket::Month => month_start(at),
                }),
                by_project.then(|| project.clone()),
                q.group_by.contains(&Dimension::Metric).then(|| metric.clone()),
                q.group_by.contains(&Dimension::Unit).then(|| unit.clone()),
            );
            let entry = groups.entry(key).or_insert((0.0, 0));
            entry.0 += quantity;
            entry.1 += events;
        })?;
    }
    Ok(groups
        .into_iter()
        .filter(|(_, (_, events))| *events > 0)
        .map(|((bucket_start_ms, project_id, metric, unit), (quantity, _))| UsageGroup {
            org_id: q.org_id.clone(),
            bucket_start_ms,
            project_id,
            metric,
            unit,
            quantity,
        })
        .collect())
}

/// `summarizeUsage`: by default quantities summed per metric and unit over the window;
/// optionally filtered by project or metric, grouped differently, or bucketed in time.
pub fn summarize(conn: &Db, _ctx: &RequestContext, q: SummarizeUsage) -> Result<Vec<UsageGroup>> {
    rollups::fold_long_tail(conn, &q.org_id)?;
    db::read(conn, |c| summarize_query(c, &q))
}

/// The default summary of an org, for the export.
pub(crate) fn summarize_for(conn: &Db, org_id: &str, window: Window) -> Result<Vec<UsageSummary>> {
    Ok(summarize_query(conn, &SummarizeUsage::default_for(org_id, window))?
        .into_iter()
        .map(|row| UsageSummary {
            org_id: row.org_id,
            metric: row.metric.unwrap_or_default(),
            unit: row.unit.unwrap_or_default(),
            quantity: row.quantity,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_starts_are_utc_calendar_months() {
        // 2024-02-29T12:00:00Z -> 2024-02-01T00:00:00Z
        assert_eq!(month_start(1_709_208_000_000), 1_706_745_600_000);
        assert_eq!(month_start(0), 0);
        // 1970-03-01 exactly
        assert_eq!(month_start(59 * DAY), 59 * DAY);
        assert_eq!(month_start(59 * DAY - 1), 31 * DAY);
    }
}
