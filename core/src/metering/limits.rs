//! Usage limits (quotas per metric, unit and period) and checks against them.

use crate::chain::{self, NewEvent};
use crate::db;
use crate::error::Result;
use crate::tenancy::orgs::{self, WriteKind};
use crate::page::{self, Page, PageRequest};
use crate::parents::Parents;
use crate::tenancy::removal::{self, Removal};
use crate::metering::rollups::{self, ALL};
use crate::metering::usage::{NewUsage, UsageEvent};
use crate::request::{FromInput, RequestContext};
use crate::validate::{js_number, period_ms, Input, ORG_KEY};
use crate::params;
use crate::engine::{Built, Dialect, Row};
use crate::db::Db;
use serde::Serialize;
use serde_json::json;
use ts_rs::TS;

/// A limit on one metric and unit, over a period: the org's (`projectId` null) or one
/// project's.
#[derive(Debug, Default, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneUsageLimit")]
pub struct UsageLimit {
    pub org_id: String,
    pub project_id: Option<String>,
    pub metric: String,
    pub unit: String,
    pub period: String,
    pub limit_quantity: f64,
    pub updated_at_ms: i64,
}

/// The period of a usage limit: a day, a week (7 days) or a month (30 days), ending at the
/// time checked.
#[derive(TS)]
#[ts(rename = "ControlPlaneUsagePeriod", rename_all = "lowercase")]
pub enum UsagePeriod {
    Daily,
    Weekly,
    Monthly,
}

/// A limit with what was used in the window checked.
#[derive(Debug, Default, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneUsageLimitCheck")]
pub struct UsageLimitCheck {
    #[serde(flatten)]
    pub limit: UsageLimit,
    pub used_quantity: f64,
    pub remaining_quantity: f64,
    pub exceeded: bool,
}

const SELECT: &str =
    "SELECT org_id, project_id, metric, unit, period, limit_quantity, updated_at_ms FROM _smithers_cp_usage_limits";

fn from_row(r: &dyn Row) -> Result<UsageLimit> {
    Ok(UsageLimit {
        org_id: r.get(0)?,
        project_id: r.get(1)?,
        metric: r.get(2)?,
        unit: r.get(3)?,
        period: r.get(4)?,
        limit_quantity: r.get(5)?,
        updated_at_ms: r.get(6)?,
    })
}

/// Which limit: one per (org, project or org-wide, metric, unit, period). Read first by
/// every request that names a limit, so its fields are the first an error names.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename_all = "camelCase", optional_fields = nullable)]
pub struct LimitKey {
    pub org_id: String,
    /// The project's limit; the org-wide one when missing.
    pub project_id: Option<String>,
    pub metric: String,
    /// `count` when missing.
    #[ts(as = "Option<String>")]
    pub unit: String,
    /// `monthly` when missing.
    #[ts(as = "Option<UsagePeriod>")]
    pub period: String,
}

impl FromInput for LimitKey {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(LimitKey {
            org_id: input.id("orgId")?,
            project_id: input.opt_id("projectId")?,
            metric: input.string("metric")?,
            unit: input.string_or("unit", "count")?,
            period: input.period("period")?,
        })
    }
}

/// `setUsageLimit`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneSetUsageLimitInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct SetUsageLimit {
    #[ts(flatten)]
    pub key: LimitKey,
    /// A finite number >= 0.
    pub limit_quantity: f64,
    /// Now when missing.
    #[ts(as = "Option<i64>")]
    pub updated_at_ms: i64,
}

impl FromInput for SetUsageLimit {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(SetUsageLimit {
            key: LimitKey::from_input(input)?,
            limit_quantity: input.non_negative("limitQuantity")?,
            updated_at_ms: input.timestamp("updatedAtMs")?,
        })
    }
}

/// `setUsageLimit`: one limit per (org, project or org-wide, metric, unit, period).
pub fn set(conn: &Db, ctx: &RequestContext, req: SetUsageLimit) -> Result<UsageLimit> {
    let SetUsageLimit { key: LimitKey { org_id, project_id, metric, unit, period }, limit_quantity, updated_at_ms } = req;
    let parents = Parents::project(&org_id, project_id.as_deref());
    db::write_org(conn, &org_id, |c| {
        orgs::guard(c, &org_id, WriteKind::Create)?;
        // The limits table has no foreign key to projects, so the project is checked here.
        parents.check(c)?;
        c.execute(
            "INSERT INTO _smithers_cp_usage_limits
               (org_id, project_key, project_id, metric, unit, period, limit_quantity, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(org_id, project_key, metric, unit, period) DO UPDATE SET
               project_id = excluded.project_id,
               limit_quantity = excluded.limit_quantity,
               updated_at_ms = excluded.updated_at_ms",
        params![
            org_id,
            project_id.as_deref().unwrap_or(ORG_KEY),
            project_id,
            metric,
            unit,
            period,
            limit_quantity,
            updated_at_ms
        ])?;
        chain::insert(
            c,
            ctx,
            &NewEvent {
                org_id: &org_id,
                project_id: project_id.as_deref(),
                actor_id: None,
                action: "usage_limit.upsert",
                target_type: "usage_limit",
                target_id: Some(project_id.as_deref().unwrap_or(&org_id)),
                occurred_at_ms: updated_at_ms,
                metadata: json!({ "metric": metric, "unit": unit, "period": period, "limitQuantity": js_number(limit_quantity) }),
            },
        )?;
        Ok(())
    })?;
    Ok(UsageLimit { org_id, project_id, metric, unit, period, limit_quantity, updated_at_ms })
}

/// `checkUsageLimit`'s input: which limit, and the window to weigh against it.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneCheckUsageLimitInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct CheckUsageLimit {
    #[ts(flatten)]
    pub key: LimitKey,
    /// One period before `untilMs` (not before 0) when missing.
    #[ts(as = "Option<i64>")]
    pub since_ms: i64,
    /// Now when missing.
    #[ts(as = "Option<i64>")]
    pub until_ms: i64,
}

impl FromInput for CheckUsageLimit {
    const FIELDS: &'static [&'static str] = &["orgId", "projectId", "metric", "unit", "period", "sinceMs", "untilMs"];

    fn from_input(input: &Input) -> Result<Self> {
        let key = LimitKey::from_input(input)?;
        let until_ms = input.timestamp("untilMs")?;
        let period_len = period_ms(&key.period).unwrap_or(0);
        let since_ms = input.timestamp_or("sinceMs", (until_ms - period_len).max(0))?;
        Ok(CheckUsageLimit { key, since_ms, until_ms })
    }
}

/// `checkUsageLimit`: `null` when no limit is set for exactly this scope; otherwise the
/// limit with what was used in the window (by default the period up to now).
///
/// One statement reads the limit and the usage together (one snapshot, so no transaction
/// is opened); a tail another writer let grow long is folded afterwards.
pub fn check(conn: &Db, _ctx: &RequestContext, req: CheckUsageLimit) -> Result<Option<UsageLimitCheck>> {
    let CheckUsageLimit { key: LimitKey { org_id, project_id, metric, unit, period }, since_ms, until_ms } = req;
    static SQL: Built = Built::new();
    let sql = SQL.get(conn.dialect(), |dialect| {
        if dialect == Dialect::Postgres {
            // The sum by the server's function (`rollups::postgres_sum`), which runs only
            // the pieces the window has.
            return format!(
                "SELECT l.org_id, l.project_id, l.metric, l.unit, l.period, l.limit_quantity, l.updated_at_ms,
                        {tail}, {used} AS used
                 FROM _smithers_cp_usage_limits AS l
                 WHERE l.org_id = ?1 AND l.project_key = ?7 AND l.metric = ?3 AND l.unit = ?4 AND l.period = ?8",
                tail = rollups::tail_columns(dialect, "?1"),
                used = rollups::postgres_sum(),
            );
        }
        let window = rollups::one_window(dialect);
        format!(
            // The limit alone in the outer FROM, the state, window and sum in a subquery of
            // their own: joined in one FROM, a connection without SQLite's query planner
            // stability guarantee (bun:sqlite's) prepared the whole statement again on
            // every call (1 ms, against 36 µs this way).
            "WITH {tables}
             SELECT l.org_id, l.project_id, l.metric, l.unit, l.period, l.limit_quantity, l.updated_at_ms,
                    {tail},
                    (SELECT {used} FROM ({state}) AS st, ({window}) AS w) AS used
             FROM _smithers_cp_usage_limits AS l
             WHERE l.org_id = ?1 AND l.project_key = ?7 AND l.metric = ?3 AND l.unit = ?4 AND l.period = ?8",
            used = window.sum(),
            tables = rollups::window_tables(dialect),
            state = rollups::state(dialect),
            tail = rollups::tail_columns(dialect, "?1"),
            window = rollups::window_bounds(dialect),
        )
    });
    let scope = project_id.as_deref().unwrap_or(ALL);
    let project_key = project_id.as_deref().unwrap_or(ORG_KEY);
    let row = conn.row(sql, params![org_id, scope, metric, unit, since_ms, until_ms.saturating_add(1), project_key, period], |r| {
        Ok((from_row(r)?, (r.get::<i64>(7)?, r.get::<i64>(8)?), r.get::<f64>(9)?))
    })?;
    let Some((limit, tail, used_quantity)) = row else { return Ok(None) };
    rollups::fold_if_long(conn, &org_id, tail)?;
    Ok(Some(UsageLimitCheck {
        remaining_quantity: (limit.limit_quantity - used_quantity).max(0.0),
        exceeded: used_quantity > limit.limit_quantity,
        used_quantity,
        limit,
    }))
}

/// One limit as `consumeUsage` weighed it: usage in its window before this event, and
/// whether the event fits.
#[derive(Debug, Default, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneConsumeCheck")]
pub struct ConsumeCheck {
    #[serde(flatten)]
    pub check: UsageLimitCheck,
    /// The period ending at the event, which `usedQuantity` covers.
    pub since_ms: i64,
    pub until_ms: i64,
    /// Usage already recorded after the event's time, within one period of it (events of
    /// another process that committed first, or a backdated event's successors); it
    /// counts against the limit too.
    pub later_quantity: f64,
    /// `usedQuantity + laterQuantity + quantity <= limitQuantity`.
    pub allowed: bool,
}

/// What `consumeUsage` decided: the event, recorded only if it fits every limit that
/// applies, and each limit as weighed.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneConsumption")]
pub struct Consumption {
    pub allowed: bool,
    /// The event recorded (or first recorded with its idempotency key); `null` when refused.
    pub event: Option<UsageEvent>,
    pub checks: Vec<ConsumeCheck>,
    /// With `requireBalance`: the balance the event was weighed against.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub balance: Option<BalanceCheck>,
}

/// The balance an event was weighed against (`consumeUsage` with `requireBalance`): the
/// balance of its scope at its time before it, and after it when admitted.
#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneBalanceCheck")]
pub struct BalanceCheck {
    /// Whether the balance covers the event: at its time, and without leaving uncovered any
    /// usage recorded after it that the grants covered before.
    pub allowed: bool,
    pub before: f64,
    /// `before` less the event when it was recorded; `before` when not.
    pub after: f64,
}

impl BalanceCheck {
    /// The balance's verdict (`covered`); `after` as the whole decision (`admitted`, the
    /// limits' checks too) left it.
    pub(crate) fn weigh(before: f64, covered: bool, quantity: f64, admitted: impl FnOnce(bool) -> bool) -> BalanceCheck {
        BalanceCheck { allowed: covered, before, after: if admitted(covered) { before - quantity } else { before } }
    }

    /// For an event first recorded earlier with its key: the balance as it stands.
    pub(crate) fn repeated(now: f64) -> BalanceCheck {
        BalanceCheck { allowed: true, before: now, after: now }
    }
}

/// The checks of an event against its limits, each with its usage in the window up to the
/// event and in the one after it: the project's limits first, then the org-wide ones, each
/// by period length; and whether the event fits them all.
pub(crate) fn weigh(usage: &NewUsage, mut weighed: Vec<(UsageLimit, f64, f64)>) -> (bool, Vec<ConsumeCheck>) {
    let at = usage.observed_at_ms;
    weighed.sort_by_key(|(l, _, _)| (l.project_id.is_none(), period_ms(&l.period)));
    let mut checks = Vec::with_capacity(weighed.len());
    for (limit, used_quantity, later_quantity) in weighed {
        let period = period_ms(&limit.period).unwrap_or(0);
        let weighed = used_quantity + later_quantity;
        checks.push(ConsumeCheck {
            allowed: weighed + usage.quantity <= limit.limit_quantity,
            since_ms: (at - period).max(0),
            until_ms: at,
            later_quantity,
            check: UsageLimitCheck {
                remaining_quantity: (limit.limit_quantity - weighed).max(0.0),
                exceeded: weighed > limit.limit_quantity,
                used_quantity,
                limit,
            },
        });
    }
    (checks.iter().all(|check| check.allowed), checks)
}

/// Every limit of the org, ordered by (project_key, metric, unit, period).
pub(crate) fn list(conn: &Db, org_id: &str) -> Result<Vec<UsageLimit>> {
    conn.rows(&format!("{SELECT} WHERE org_id = ?1 ORDER BY project_key, metric, unit, period"), params![org_id], from_row)
}

/// `listUsageLimits`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneListUsageLimitsInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ListUsageLimits {
    pub org_id: String,
    /// Absent: every limit of the org; `null`: the org-wide ones; an id: that project's.
    #[ts(as = "Option<String>")]
    pub project_id: Option<Option<String>>,
    #[ts(flatten)]
    pub page: PageRequest,
}

impl FromInput for ListUsageLimits {
    fn from_input(input: &Input) -> Result<Self> {
        let org_id = input.id("orgId")?;
        let project_id = if input.has("projectId") { Some(input.opt_id("projectId")?) } else { None };
        Ok(ListUsageLimits { org_id, project_id, page: PageRequest::from_input(input)? })
    }
}

/// `listUsageLimits({orgId, projectId?, cursor?, limit?})`: by (scope, metric, unit,
/// period), the org-wide ones first; `projectId` absent lists all, `null` the org-wide.
pub fn list_page(conn: &Db, _ctx: &RequestContext, req: ListUsageLimits) -> Result<Page<UsageLimit>> {
    let ListUsageLimits { org_id, project_id, page: PageRequest { limit, cursor } } = req;
    let key: Option<String> = project_id.map(|project| project.unwrap_or_else(|| ORG_KEY.to_string()));
    let after: Option<Vec<String>> = match &cursor {
        None => None,
        Some(_) => Some((0..4).map(|i| page::text(&cursor, i).map(Option::unwrap_or_default)).collect::<Result<_>>()?),
    };
    let a = after.clone().unwrap_or_default();
    let part = |i: usize| a.get(i).cloned();
    let rows = conn
        .rows(&format!(
            "SELECT org_id, project_id, metric, unit, period, limit_quantity, updated_at_ms, project_key
             FROM _smithers_cp_usage_limits
             WHERE org_id = ?1 AND ({p2} IS NULL OR project_key = ?2)
               AND ({p3} IS NULL OR (project_key, metric, unit, period) > (?3, ?4, ?5, ?6))
             ORDER BY project_key, metric, unit, period LIMIT ?7",
            p2 = conn.dialect().text_param(2),
            p3 = conn.dialect().text_param(3),
        ), params![org_id, key, part(0), part(1), part(2), part(3), limit as i64 + 1], |r| {
            Ok((from_row(r)?, r.get::<String>(7)?))
        })?;
    let page = page::finish(rows, limit, |(l, k)| vec![json!(k), json!(l.metric), json!(l.unit), json!(l.period)]);
    Ok(Page { items: page.items.into_iter().map(|(l, _)| l).collect(), next_cursor: page.next_cursor })
}

/// `deleteUsageLimit`'s input: the limit's key, and who removes it when.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneDeleteUsageLimitInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct DeleteUsageLimit {
    #[ts(flatten)]
    pub key: LimitKey,
    pub actor_id: Option<String>,
    /// Now when missing.
    #[ts(as = "Option<i64>")]
    pub at_ms: i64,
}

impl FromInput for DeleteUsageLimit {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(DeleteUsageLimit {
            key: LimitKey::from_input(input)?,
            actor_id: input.opt_id("actorId")?,
            at_ms: input.timestamp("atMs")?,
        })
    }
}

/// `deleteUsageLimit`: `NOT_FOUND` when no such limit is set.
pub fn delete(conn: &Db, ctx: &RequestContext, req: DeleteUsageLimit) -> Result<()> {
    let DeleteUsageLimit { key: LimitKey { org_id, project_id, metric, unit, period }, actor_id, at_ms: at } = req;
    let project_key = project_id.as_deref().unwrap_or(ORG_KEY);
    removal::remove(
        conn,
        ctx,
        Removal {
            what: "usage limit",
            details: json!({ "orgId": org_id, "projectId": project_id, "metric": metric, "unit": unit, "period": period }),
            delete_sql: "DELETE FROM _smithers_cp_usage_limits
                         WHERE org_id = ?1 AND project_key = ?2 AND metric = ?3 AND unit = ?4 AND period = ?5",
            params: params![org_id, project_key, metric, unit, period],
            event: NewEvent {
                org_id: &org_id,
                project_id: project_id.as_deref(),
                actor_id: actor_id.as_deref(),
                action: "usage_limit.delete",
                target_type: "usage_limit",
                target_id: Some(project_id.as_deref().unwrap_or(&org_id)),
                occurred_at_ms: at,
                metadata: json!({ "metric": metric, "unit": unit, "period": period }),
            },
        },
    )
}
