//! Grants: `grantCredits`, `voidGrant`, `listGrants`, and the rows the balance reads.

use crate::chain::{self, NewEvent};
use crate::db::{self, Db};
use crate::engine::Row;
use crate::error::{is_constraint, Constraint, CpError, Result};
use crate::page::{self, Page, PageRequest};
use crate::params;
use crate::parents::Parents;
use crate::request::{FromInput, JsonObject, RequestContext};
use crate::tenancy::orgs::{self, WriteKind};
use crate::validate::{js_number, now_ms, parse_metadata, period_ms, Input, MAX_SAFE_INTEGER};
use serde::Serialize;
use serde_json::{json, Value};
use ts_rs::TS;

/// How a recurring grant resets: every `periodMs` from `anchorMs`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneCreditRecurrence")]
pub struct Recurrence {
    pub period_ms: i64,
    pub anchor_ms: i64,
}

/// What a recurring grant carries over at a reset: `min(maxAmount, max(minAmount, left))`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneCreditRollover")]
pub struct Rollover {
    pub max_amount: f64,
    pub min_amount: f64,
}

/// A grant of credits on one metric and unit: the org's (`projectId` null) or a project's.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneCreditGrant")]
pub struct CreditGrant {
    pub grant_id: String,
    pub org_id: String,
    pub project_id: Option<String>,
    pub metric: String,
    pub unit: String,
    pub amount: f64,
    pub priority: i64,
    pub effective_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub recurrence: Option<Recurrence>,
    pub rollover: Option<Rollover>,
    pub voided_at_ms: Option<i64>,
    pub void_reason: Option<String>,
    pub idempotency_key: Option<String>,
    #[ts(type = "Record<string, unknown>")]
    pub metadata: Value,
    pub created_at_ms: i64,
}

const COLUMNS: &str = "grant_id, org_id, project_id, metric, unit, amount, priority, effective_at_ms, expires_at_ms,
  period_ms, anchor_ms, rollover_max, rollover_min, voided_at_ms, void_reason, idempotency_key, metadata_json, created_at_ms";

fn from_row(r: &dyn Row) -> Result<CreditGrant> {
    let period: Option<i64> = r.get(9)?;
    let rollover_max: Option<f64> = r.get(11)?;
    Ok(CreditGrant {
        grant_id: r.get(0)?,
        org_id: r.get(1)?,
        project_id: r.get(2)?,
        metric: r.get(3)?,
        unit: r.get(4)?,
        amount: r.get(5)?,
        priority: r.get(6)?,
        effective_at_ms: r.get(7)?,
        expires_at_ms: r.get(8)?,
        recurrence: match period {
            Some(period_ms) => Some(Recurrence { period_ms, anchor_ms: r.get::<Option<i64>>(10)?.unwrap_or(0) }),
            None => None,
        },
        rollover: match rollover_max {
            Some(max_amount) => Some(Rollover { max_amount, min_amount: r.get::<Option<f64>>(12)?.unwrap_or(0.0) }),
            None => None,
        },
        voided_at_ms: r.get(13)?,
        void_reason: r.get(14)?,
        idempotency_key: r.get(15)?,
        metadata: parse_metadata(&r.get::<String>(16)?),
        created_at_ms: r.get(17)?,
    })
}

/// Every grant of an account (org, metric, unit), voided and expired ones too: the
/// balance at any instant reads them all.
pub(crate) fn of_account(conn: &Db, org_id: &str, metric: &str, unit: &str) -> Result<Vec<CreditGrant>> {
    conn.rows(
        &format!("SELECT {COLUMNS} FROM _smithers_cp_credit_grants WHERE org_id = ?1 AND metric = ?2 AND unit = ?3 ORDER BY grant_id"),
        params![org_id, metric, unit],
        from_row,
    )
}

/// Every grant of an org, by id (the export's).
pub(crate) fn list_for(conn: &Db, org_id: &str) -> Result<Vec<CreditGrant>> {
    conn.rows(&format!("SELECT {COLUMNS} FROM _smithers_cp_credit_grants WHERE org_id = ?1 ORDER BY grant_id"), params![org_id], from_row)
}

fn find(conn: &Db, org_id: &str, grant_id: &str) -> Result<Option<CreditGrant>> {
    conn.row(&format!("SELECT {COLUMNS} FROM _smithers_cp_credit_grants WHERE org_id = ?1 AND grant_id = ?2"), params![org_id, grant_id], from_row)
}

fn not_found(org_id: &str, grant_id: &str) -> CpError {
    CpError::new("NOT_FOUND", "Control-plane credit grant not found.", Some(json!({ "orgId": org_id, "grantId": grant_id })))
}

/// `recurrence`'s input: `period` a name (`daily`, `weekly`, `monthly`: 1, 7, 30 days) or
/// a whole number of milliseconds (at least 1000); `anchorMs` the grant's effect when missing.
#[derive(TS)]
#[ts(rename = "ControlPlaneCreditRecurrenceInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct RecurrenceInput {
    #[ts(type = "\"daily\" | \"weekly\" | \"monthly\" | number")]
    pub period: String,
    pub anchor_ms: Option<i64>,
}

/// `rollover`'s input: `minAmount` 0 when missing, at most `maxAmount`.
#[derive(TS)]
#[ts(rename = "ControlPlaneCreditRolloverInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct RolloverInput {
    pub max_amount: f64,
    pub min_amount: Option<f64>,
}

/// `grantCredits`' input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneGrantCreditsInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct GrantCredits {
    pub org_id: String,
    /// The project's grant (its usage draws on it first); the org's when missing.
    pub project_id: Option<String>,
    pub metric: String,
    /// `count` when missing.
    #[ts(as = "Option<String>")]
    pub unit: String,
    /// A finite number >= 0.
    pub amount: f64,
    /// Lower burns first; 0 when missing.
    #[ts(as = "Option<i64>")]
    pub priority: i64,
    /// Now when missing.
    #[ts(as = "Option<i64>")]
    pub effective_at_ms: i64,
    /// Never when missing; after `effectiveAtMs`.
    pub expires_at_ms: Option<i64>,
    #[ts(as = "Option<RecurrenceInput>")]
    pub recurrence: Option<Recurrence>,
    /// Only with a recurrence; nothing carries over when missing.
    #[ts(as = "Option<RolloverInput>")]
    pub rollover: Option<Rollover>,
    /// A new id when missing.
    #[ts(as = "Option<String>")]
    pub grant_id: String,
    /// The same key in the same org grants once.
    pub idempotency_key: Option<String>,
    #[ts(as = "Option<JsonObject>")]
    pub metadata: Value,
    #[ts(skip)]
    metadata_json: String,
    pub actor_id: Option<String>,
}

fn whole(input: &Input, field: &str, default: i64) -> Result<i64> {
    match input.get(field) {
        None => Ok(default),
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64) => {
            Ok(n.as_f64().unwrap_or(0.0) as i64)
        }
        Some(_) => Err(CpError::field(field, format!("{field} must be a whole number."))),
    }
}

fn nested<'a>(input: &Input<'a>, field: &str) -> Result<Option<&'a Value>> {
    match input.get(field) {
        None => Ok(None),
        Some(value @ Value::Object(_)) => Ok(Some(value)),
        Some(_) => Err(CpError::field(field, format!("{field} must be an object."))),
    }
}

/// A field of a nested object, its error naming the whole path (`recurrence.period`).
fn at_path(err: CpError, parent: &str) -> CpError {
    let field = err.details.as_ref().and_then(|d| d.get("field")).and_then(Value::as_str).unwrap_or("").to_string();
    let path = format!("{parent}.{field}");
    CpError::field(&path, err.summary.replacen(&field, &path, 1))
}

impl FromInput for GrantCredits {
    fn from_input(input: &Input) -> Result<Self> {
        let org_id = input.id("orgId")?;
        let project_id = input.opt_id("projectId")?;
        let metric = input.string("metric")?;
        let unit = input.string_or("unit", "count")?;
        let amount = input.non_negative("amount")?;
        let priority = whole(input, "priority", 0)?;
        let effective_at_ms = input.timestamp("effectiveAtMs")?;
        let expires_at_ms = input.opt_timestamp("expiresAtMs")?;
        if expires_at_ms.is_some_and(|e| e <= effective_at_ms) {
            return Err(CpError::field("expiresAtMs", "expiresAtMs must be after effectiveAtMs."));
        }
        let recurrence = match nested(input, "recurrence")? {
            None => None,
            Some(value) => {
                let r = Input::new(value)?;
                let period_ms = match r.get("period") {
                    Some(Value::String(name)) => period_ms(name),
                    Some(Value::Number(n)) => n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 1000.0 && *f <= MAX_SAFE_INTEGER as f64).map(|f| f as i64),
                    _ => None,
                }
                .ok_or_else(|| CpError::field("recurrence.period", "recurrence.period must be one of: daily, weekly, monthly, or a whole number of milliseconds (at least 1000)."))?;
                let anchor_ms = r.timestamp_or("anchorMs", effective_at_ms).map_err(|e| at_path(e, "recurrence"))?;
                Some(Recurrence { period_ms, anchor_ms })
            }
        };
        let rollover = match nested(input, "rollover")? {
            None => None,
            Some(value) => {
                if recurrence.is_none() {
                    return Err(CpError::field("rollover", "rollover needs a recurrence: it applies at a reset."));
                }
                let r = Input::new(value)?;
                let max_amount = r.non_negative("maxAmount").map_err(|e| at_path(e, "rollover"))?;
                let min_amount = match r.get("minAmount") {
                    None => 0.0,
                    Some(_) => r.non_negative("minAmount").map_err(|e| at_path(e, "rollover"))?,
                };
                if min_amount > max_amount {
                    return Err(CpError::field("rollover.minAmount", "rollover.minAmount must be at most rollover.maxAmount."));
                }
                Some(Rollover { max_amount, min_amount })
            }
        };
        let grant_id = input.id_or_new("grantId")?;
        let idempotency_key = input.idempotency_key("idempotencyKey")?;
        let (metadata, metadata_json) = input.metadata("metadata")?;
        let actor_id = input.opt_id("actorId")?;
        Ok(GrantCredits {
            org_id,
            project_id,
            metric,
            unit,
            amount,
            priority,
            effective_at_ms,
            expires_at_ms,
            recurrence,
            rollover,
            grant_id,
            idempotency_key,
            metadata,
            metadata_json,
            actor_id,
        })
    }
}

impl GrantCredits {
    fn grant(&self, created_at_ms: i64) -> CreditGrant {
        CreditGrant {
            grant_id: self.grant_id.clone(),
            org_id: self.org_id.clone(),
            project_id: self.project_id.clone(),
            metric: self.metric.clone(),
            unit: self.unit.clone(),
            amount: self.amount,
            priority: self.priority,
            effective_at_ms: self.effective_at_ms,
            expires_at_ms: self.expires_at_ms,
            recurrence: self.recurrence,
            rollover: self.rollover,
            voided_at_ms: None,
            void_reason: None,
            idempotency_key: self.idempotency_key.clone(),
            metadata: self.metadata.clone(),
            created_at_ms,
        }
    }

    /// Whether a grant first made with this key is this one (its id aside, when the
    /// caller let the store pick it).
    fn same_as(&self, g: &CreditGrant) -> bool {
        g.project_id == self.project_id
            && g.metric == self.metric
            && g.unit == self.unit
            && g.amount == self.amount
            && g.priority == self.priority
            && g.expires_at_ms == self.expires_at_ms
            && g.recurrence == self.recurrence
            && g.rollover == self.rollover
            && g.metadata == self.metadata
    }
}

/// `grantCredits`: a grant, audited in the org's chain; a repeated idempotency key returns
/// the grant first made with it. Usage recorded after its effect at an earlier time is
/// burned again from there on: the balance is computed, not stored.
pub fn grant(conn: &Db, ctx: &RequestContext, req: GrantCredits) -> Result<CreditGrant> {
    let parents = Parents::project(&req.org_id, req.project_id.as_deref());
    db::write_org(conn, &req.org_id, |c| {
        orgs::guard(c, &req.org_id, WriteKind::Create)?;
        if let Some(key) = &req.idempotency_key {
            let first = c.row(
                &format!("SELECT {COLUMNS} FROM _smithers_cp_credit_grants WHERE org_id = ?1 AND idempotency_key = ?2"),
                params![req.org_id, key],
                from_row,
            )?;
            if let Some(first) = first {
                if !req.same_as(&first) {
                    return Err(CpError::new(
                        "IDEMPOTENCY_CONFLICT",
                        format!("Credit grant {key} was already made with different content."),
                        Some(json!({ "orgId": req.org_id, "idempotencyKey": key, "existingId": first.grant_id })),
                    ));
                }
                return Ok(first);
            }
        }
        parents.check(c)?;
        let created_at_ms = now_ms();
        let g = req.grant(created_at_ms);
        let inserted = c.execute(
            &format!("INSERT INTO _smithers_cp_credit_grants ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, NULL, NULL, ?14, ?15, ?16)"),
            params![
                g.grant_id,
                g.org_id,
                g.project_id,
                g.metric,
                g.unit,
                g.amount,
                g.priority,
                g.effective_at_ms,
                g.expires_at_ms,
                g.recurrence.map(|r| r.period_ms),
                g.recurrence.map(|r| r.anchor_ms),
                g.rollover.map(|r| r.max_amount),
                g.rollover.map(|r| r.min_amount),
                g.idempotency_key,
                req.metadata_json,
                created_at_ms
            ],
        );
        match inserted {
            Err(e) if is_constraint(&e, Constraint::PrimaryKey) || is_constraint(&e, Constraint::Unique) => {
                return Err(CpError::new(
                    "DUPLICATE_ID",
                    format!("Duplicate control-plane credit grant id: {}", g.grant_id),
                    Some(json!({ "orgId": g.org_id, "grantId": g.grant_id })),
                ))
            }
            Err(e) => return Err(parents.explain(c, e)),
            Ok(_) => {}
        }
        // After the insert: on PostgreSQL a failed statement ends the transaction's work.
        super::balance::forget(c, &g.org_id, &g.metric, &g.unit)?;
        chain::insert(
            c,
            ctx,
            &NewEvent {
                org_id: &g.org_id,
                project_id: g.project_id.as_deref(),
                actor_id: req.actor_id.as_deref().or(ctx.actor_id.as_deref()),
                action: "credit_grant.create",
                target_type: "credit_grant",
                target_id: Some(&g.grant_id),
                occurred_at_ms: created_at_ms,
                metadata: json!({
                    "metric": g.metric,
                    "unit": g.unit,
                    "amount": js_number(g.amount),
                    "priority": g.priority,
                    "effectiveAtMs": g.effective_at_ms,
                    "expiresAtMs": g.expires_at_ms,
                    "recurrence": g.recurrence,
                    "rollover": g.rollover,
                }),
            },
        )?;
        Ok(g)
    })
}

/// `voidGrant`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneVoidGrantInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct VoidGrant {
    pub org_id: String,
    pub grant_id: String,
    pub reason: String,
    /// Now when missing; not before the grant's effect.
    #[ts(as = "Option<i64>")]
    pub voided_at_ms: i64,
    pub actor_id: Option<String>,
}

impl FromInput for VoidGrant {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(VoidGrant {
            org_id: input.id("orgId")?,
            grant_id: input.id("grantId")?,
            reason: input.string("reason")?,
            voided_at_ms: input.timestamp("voidedAtMs")?,
            actor_id: input.opt_id("actorId")?,
        })
    }
}

/// `voidGrant`: the grant stops counting at `voidedAtMs` (it still counts for the time it
/// was active). Voiding a voided grant returns it as it is.
pub fn void(conn: &Db, ctx: &RequestContext, req: VoidGrant) -> Result<CreditGrant> {
    db::write_org(conn, &req.org_id, |c| {
        orgs::guard(c, &req.org_id, WriteKind::Other)?;
        let Some(mut g) = find(c, &req.org_id, &req.grant_id)? else { return Err(not_found(&req.org_id, &req.grant_id)) };
        if g.voided_at_ms.is_some() {
            return Ok(g);
        }
        // Before its effect, a grant never counted: voided at its effect.
        let at = req.voided_at_ms.max(g.effective_at_ms);
        c.execute(
            "UPDATE _smithers_cp_credit_grants SET voided_at_ms = ?3, void_reason = ?4 WHERE org_id = ?1 AND grant_id = ?2",
            params![req.org_id, req.grant_id, at, req.reason],
        )?;
        super::balance::forget(c, &req.org_id, &g.metric, &g.unit)?;
        chain::insert(
            c,
            ctx,
            &NewEvent {
                org_id: &req.org_id,
                project_id: g.project_id.as_deref(),
                actor_id: req.actor_id.as_deref().or(ctx.actor_id.as_deref()),
                action: "credit_grant.void",
                target_type: "credit_grant",
                target_id: Some(&req.grant_id),
                occurred_at_ms: at,
                metadata: json!({ "metric": g.metric, "unit": g.unit, "reason": req.reason }),
            },
        )?;
        g.voided_at_ms = Some(at);
        g.void_reason = Some(req.reason.clone());
        Ok(g)
    })
}

/// `listGrants`' input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneListGrantsInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct ListGrants {
    pub org_id: String,
    /// Absent: every grant of the org; `null`: the org's own; an id: that project's.
    #[ts(as = "Option<String>")]
    pub project_id: Option<Option<String>>,
    pub metric: Option<String>,
    /// Only the grants active then (in effect, not expired, not voided).
    pub active_at_ms: Option<i64>,
    #[ts(flatten)]
    pub page: PageRequest,
}

impl FromInput for ListGrants {
    fn from_input(input: &Input) -> Result<Self> {
        let org_id = input.id("orgId")?;
        let project_id = if input.has("projectId") { Some(input.opt_id("projectId")?) } else { None };
        let metric = if input.get("metric").is_some() { Some(input.string("metric")?) } else { None };
        Ok(ListGrants { org_id, project_id, metric, active_at_ms: input.opt_timestamp("activeAtMs")?, page: PageRequest::from_input(input)? })
    }
}

/// `listGrants`: by grant id.
pub fn list(conn: &Db, _ctx: &RequestContext, req: ListGrants) -> Result<Page<CreditGrant>> {
    let ListGrants { org_id, project_id, metric, active_at_ms, page: PageRequest { limit, cursor } } = req;
    let after = page::text(&cursor, 0)?;
    let by_project = project_id.is_some();
    let project = project_id.flatten();
    let rows = conn.rows(
        &format!(
            "SELECT {COLUMNS} FROM _smithers_cp_credit_grants
             WHERE org_id = ?1
               AND (?2 = 0 OR project_id = ?3 OR (project_id IS NULL AND {p3} IS NULL))
               AND ({p4} IS NULL OR metric = ?4)
               AND ({p5} IS NULL OR grant_id > ?5)
               AND ({p6} IS NULL OR (effective_at_ms <= ?6
                    AND (expires_at_ms IS NULL OR expires_at_ms > ?6) AND (voided_at_ms IS NULL OR voided_at_ms > ?6)))
             ORDER BY grant_id LIMIT ?7",
            p3 = conn.dialect().text_param(3),
            p4 = conn.dialect().text_param(4),
            p5 = conn.dialect().text_param(5),
            p6 = crate::engine::Both { sqlite: "?6", postgres: "CAST(?6 AS BIGINT)" }.pick(conn.dialect()),
        ),
        params![org_id, by_project as i64, project, metric, after, active_at_ms, limit as i64 + 1],
        from_row,
    )?;
    Ok(page::finish(rows, limit, |g| vec![json!(g.grant_id)]))
}
