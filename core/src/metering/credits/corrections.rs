//! Corrections of usage: `voidUsage` and `amendUsage`. The original event is kept; a
//! compensating event carries the difference (negative for less), at the original's time
//! and in its project, run, metric and unit, so rollups, limits and balances read the
//! corrected quantity at once and a balance re-burns from that time on. Each correction is
//! a row of its own (`_smithers_cp_usage_corrections`), audited in the org's chain.

use crate::chain::{self, NewEvent};
use crate::db::{self, Db};
use crate::engine::{Both, Built};
use crate::error::{CpError, Result};
use crate::metering::rollups;
use crate::params;
use crate::request::{FromInput, RequestContext};
use crate::tenancy::orgs::{self, WriteKind};
use crate::validate::{js_number, now_ms, Input};
use serde::Serialize;
use serde_json::json;
use ts_rs::TS;

/// What a correction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "ControlPlaneCorrectionKind")]
pub enum Kind {
    Void,
    Amend,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Void => "void",
            Kind::Amend => "amend",
        }
    }
}

/// A correction as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneUsageCorrection")]
pub struct UsageCorrection {
    pub org_id: String,
    /// The event corrected.
    pub event_id: i64,
    pub kind: Kind,
    /// The event's quantity before and after.
    pub previous_quantity: f64,
    pub quantity: f64,
    /// The compensating event, which carries `quantity - previousQuantity`.
    pub compensating_event_id: i64,
    pub observed_at_ms: i64,
    pub reason: String,
    pub actor_id: Option<String>,
    pub created_at_ms: i64,
}

/// `voidUsage`'s and `amendUsage`'s input: the event by its id or its idempotency key.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneCorrectUsageInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct CorrectUsage {
    pub org_id: String,
    /// The event's id, or (without it) its `idempotencyKey`.
    pub event_id: Option<i64>,
    pub idempotency_key: Option<String>,
    pub reason: String,
    pub actor_id: Option<String>,
}

impl FromInput for CorrectUsage {
    fn from_input(input: &Input) -> Result<Self> {
        let org_id = input.id("orgId")?;
        let event_id = match input.get("eventId") {
            None => None,
            Some(v) => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= crate::validate::MAX_SAFE_INTEGER as f64 => Some(n as i64),
                _ => return Err(CpError::field("eventId", "eventId must be a positive whole number.")),
            },
        };
        let idempotency_key = input.opt_string("idempotencyKey")?;
        if event_id.is_none() && idempotency_key.is_none() {
            return Err(CpError::field("eventId", "eventId or idempotencyKey is required."));
        }
        Ok(CorrectUsage { org_id, event_id, idempotency_key, reason: input.string("reason")?, actor_id: input.opt_id("actorId")? })
    }
}

/// `amendUsage`'s input: `CorrectUsage` with the new quantity.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneAmendUsageInput", rename_all = "camelCase")]
pub struct AmendUsage {
    #[ts(flatten)]
    pub correct: CorrectUsage,
    /// The event's new quantity, a finite number >= 0.
    pub quantity: f64,
}

impl FromInput for AmendUsage {
    fn from_input(input: &Input) -> Result<Self> {
        let correct = CorrectUsage::from_input(input)?;
        let quantity = input.non_negative("quantity")?;
        Ok(AmendUsage { correct, quantity })
    }
}

/// `voidUsage`: the event counts as 0 from now on, at its own time. Voiding a voided event
/// returns the void as recorded.
pub fn void(conn: &Db, ctx: &RequestContext, req: CorrectUsage) -> Result<UsageCorrection> {
    correct(conn, ctx, &req, Kind::Void, 0.0)
}

/// `amendUsage`: the event counts with its new quantity from now on, at its own time.
pub fn amend(conn: &Db, ctx: &RequestContext, req: AmendUsage) -> Result<UsageCorrection> {
    correct(conn, ctx, &req.correct, Kind::Amend, req.quantity)
}

/// The event being corrected.
struct Original {
    id: i64,
    project_id: Option<String>,
    run_id: Option<String>,
    metric: String,
    unit: String,
    observed_at_ms: i64,
    /// As corrected so far.
    quantity: f64,
    /// Whether it is itself a compensating event.
    compensating: bool,
    voided: bool,
}

fn correct(conn: &Db, ctx: &RequestContext, req: &CorrectUsage, kind: Kind, new_quantity: f64) -> Result<UsageCorrection> {
    db::write_org(conn, &req.org_id, |c| {
        orgs::guard(c, &req.org_id, WriteKind::Other)?;
        let original = find(c, req)?;
        if original.compensating {
            return Err(CpError::field("eventId", "eventId names a correction's compensating event; correct the original event."));
        }
        if original.voided {
            if kind == Kind::Void {
                if let Some(done) = last_void(c, &req.org_id, original.id)? {
                    return Ok(done);
                }
            }
            return Err(CpError::new(
                "INVALID_INPUT",
                format!("Usage event {} was voided; a voided event is not amended.", original.id),
                Some(json!({ "field": "eventId", "orgId": req.org_id, "eventId": original.id })),
            ));
        }
        let delta = new_quantity - original.quantity;
        let metadata = json!({ "correctionOf": original.id, "kind": kind.name() }).to_string();
        static INSERT: Built = Built::new();
        let sql = INSERT.get(c.dialect(), |d| {
            format!(
                "INSERT INTO _smithers_cp_usage_events (org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata_json)
                 VALUES (?1, ?2, ?3, ?4, {q}, ?6, {at}, ?8){returning}",
                q = Both { sqlite: "?5", postgres: "CAST(?5 AS DOUBLE PRECISION)" }.pick(d),
                at = Both { sqlite: "?7", postgres: "CAST(?7 AS BIGINT)" }.pick(d),
                returning = Both { sqlite: "", postgres: " RETURNING id" }.pick(d),
            )
        });
        let compensating_id = c.insert(
            sql,
            params![req.org_id, original.project_id, original.run_id, original.metric, delta, original.unit, original.observed_at_ms, metadata],
        )?;
        let created_at_ms = now_ms();
        let actor_id = req.actor_id.clone().or_else(|| ctx.actor_id.clone());
        c.execute(
            "INSERT INTO _smithers_cp_usage_corrections
               (org_id, compensating_id, event_id, kind, quantity, delta, reason, actor_id, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![req.org_id, compensating_id, original.id, kind.name(), new_quantity, delta, req.reason, actor_id, created_at_ms],
        )?;
        chain::insert(
            c,
            ctx,
            &NewEvent {
                org_id: &req.org_id,
                project_id: original.project_id.as_deref(),
                actor_id: actor_id.as_deref(),
                action: match kind {
                    Kind::Void => "usage.void",
                    Kind::Amend => "usage.amend",
                },
                target_type: "usage_event",
                target_id: Some(&original.id.to_string()),
                occurred_at_ms: created_at_ms,
                metadata: json!({
                    "metric": original.metric,
                    "unit": original.unit,
                    "observedAtMs": original.observed_at_ms,
                    "previousQuantity": js_number(original.quantity),
                    "quantity": js_number(new_quantity),
                    "compensatingEventId": compensating_id,
                    "reason": req.reason,
                }),
            },
        )?;
        rollups::fold_if_crossed(c, &req.org_id, compensating_id, compensating_id)?;
        Ok(UsageCorrection {
            org_id: req.org_id.clone(),
            event_id: original.id,
            kind,
            previous_quantity: original.quantity,
            quantity: new_quantity,
            compensating_event_id: compensating_id,
            observed_at_ms: original.observed_at_ms,
            reason: req.reason.clone(),
            actor_id,
            created_at_ms,
        })
    })
}

/// The event by id (or key), with its quantity as corrected so far; `NOT_FOUND` when the
/// org has no such event (or retention purged it).
fn find(conn: &Db, req: &CorrectUsage) -> Result<Original> {
    let found = conn.row(
        &format!(
            "SELECT e.id, e.project_id, e.run_id, e.metric, e.unit, e.observed_at_ms,
                    e.quantity + COALESCE((SELECT SUM(k.delta) FROM _smithers_cp_usage_corrections AS k
                                           WHERE k.org_id = e.org_id AND k.event_id = e.id), 0) AS quantity,
                    EXISTS (SELECT 1 FROM _smithers_cp_usage_corrections AS k WHERE k.org_id = e.org_id AND k.compensating_id = e.id) AS compensating,
                    EXISTS (SELECT 1 FROM _smithers_cp_usage_corrections AS k WHERE k.org_id = e.org_id AND k.event_id = e.id AND k.kind = 'void') AS voided
             FROM _smithers_cp_usage_events AS e
             WHERE e.org_id = ?1 AND (({id} IS NOT NULL AND e.id = {id}) OR ({id} IS NULL AND e.idempotency_key = ?3))",
            id = conn.pick(Both { sqlite: "?2", postgres: "CAST(?2 AS BIGINT)" }),
        ),
        params![req.org_id, req.event_id, req.idempotency_key],
        |r| {
            Ok(Original {
                id: r.get(0)?,
                project_id: r.get(1)?,
                run_id: r.get(2)?,
                metric: r.get(3)?,
                unit: r.get(4)?,
                observed_at_ms: r.get(5)?,
                quantity: r.get(6)?,
                compensating: r.get(7)?,
                voided: r.get(8)?,
            })
        },
    )?;
    found.ok_or_else(|| {
        CpError::new(
            "NOT_FOUND",
            "Control-plane usage event not found.",
            Some(json!({ "orgId": req.org_id, "eventId": req.event_id, "idempotencyKey": req.idempotency_key })),
        )
    })
}

/// The columns `from_row` reads: a correction with its compensating event's time (NULL
/// once retention purged that event).
const SELECT: &str = "SELECT k.compensating_id, k.event_id, k.quantity, k.delta, k.reason, k.actor_id, k.created_at_ms,
         (SELECT e.observed_at_ms FROM _smithers_cp_usage_events AS e WHERE e.id = k.compensating_id) AS observed_at_ms, k.kind, k.org_id
  FROM _smithers_cp_usage_corrections AS k";

fn from_row(r: &dyn crate::engine::Row) -> Result<UsageCorrection> {
    let quantity: f64 = r.get(2)?;
    let delta: f64 = r.get(3)?;
    Ok(UsageCorrection {
        org_id: r.get(9)?,
        event_id: r.get(1)?,
        kind: if r.get::<String>(8)? == "void" { Kind::Void } else { Kind::Amend },
        previous_quantity: quantity - delta,
        quantity,
        compensating_event_id: r.get(0)?,
        observed_at_ms: r.get::<Option<i64>>(7)?.unwrap_or(0),
        reason: r.get(4)?,
        actor_id: r.get(5)?,
        created_at_ms: r.get(6)?,
    })
}

fn last_void(conn: &Db, org_id: &str, event_id: i64) -> Result<Option<UsageCorrection>> {
    conn.row(
        &format!("{SELECT} WHERE k.org_id = ?1 AND k.event_id = ?2 AND k.kind = 'void' ORDER BY k.compensating_id DESC LIMIT 1"),
        params![org_id, event_id],
        from_row,
    )
}

/// The org's corrections made in the window (`createdAtMs`), in the order they were made
/// (the export's).
pub(crate) fn list_for(conn: &Db, org_id: &str, since_ms: i64, until_ms: i64) -> Result<Vec<UsageCorrection>> {
    conn.rows(
        &format!("{SELECT} WHERE k.org_id = ?1 AND k.created_at_ms >= ?2 AND k.created_at_ms <= ?3 ORDER BY k.compensating_id"),
        params![org_id, since_ms, until_ms],
        from_row,
    )
}
