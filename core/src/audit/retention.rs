//! Retention: how long each org's audit and usage events are kept, and the purge that
//! removes what is past it, with soft-deleted orgs past their grace period.
//!
//! The purge works in bounded batches, each its own short write transaction, so no writer
//! waits long on it; a purge killed midway leaves every batch it finished done and the file
//! consistent, and running it again finishes. A purged audit event that carried a hash
//! leaves that hash in `_smithers_cp_audit_chain_redactions`, in the same transaction, so
//! the org's chain still verifies across the gap (as after `deleteProject`).

use crate::audit;
use crate::chain::{self, NewEvent};
use crate::counts::TableCounts;
use crate::db::{self, Db};
use crate::error::{CpError, Result};
use crate::tenancy::orgs::{self, OrgRef, WriteKind};
use crate::request::{FromInput, RequestContext};
use crate::validate::Input;
use crate::params;
use serde::Serialize;
use serde_json::json;
use ts_rs::TS;

const DAY: i64 = 86_400_000;
/// How long a soft-deleted org is kept before a purge removes it, unless told otherwise.
const DELETED_ORG_GRACE_DAYS: i64 = 30;

/// How long an org's events are kept.
#[derive(Debug, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneRetention")]
pub struct Retention {
    pub org_id: String,
    /// Days an audit event is kept after it occurred; `null`: kept for ever.
    pub audit_days: Option<i64>,
    /// Days a usage event is kept as a row (from the start of its day); its sums stay in
    /// the rollups for ever. `null`: kept for ever.
    pub usage_days: Option<i64>,
    /// When it was last set; `null` when it never was.
    pub updated_at_ms: Option<i64>,
}

fn days(input: &Input, field: &str, at_least: i64) -> Result<Option<i64>> {
    match input.get(field) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= at_least as f64 && n <= 1e6 => Ok(Some(n as i64)),
            _ => Err(CpError::field(field, format!("{field} must be a whole number of days >= {at_least}, or null to keep for ever."))),
        },
    }
}

/// `setRetention`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneSetRetentionInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct SetRetention {
    pub org_id: String,
    /// Days an audit event is kept after it occurred (a whole number, 1 to 1000000);
    /// missing or `null`: kept for ever.
    pub audit_days: Option<i64>,
    /// Days a usage event is kept as a row, from the start of its day (a whole number, 1
    /// to 1000000); its sums stay in the rollups. Missing or `null`: kept for ever.
    pub usage_days: Option<i64>,
    pub actor_id: Option<String>,
    /// Now when missing.
    #[ts(as = "Option<i64>")]
    pub updated_at_ms: i64,
}

impl FromInput for SetRetention {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(SetRetention {
            org_id: input.id("orgId")?,
            audit_days: days(input, "auditDays", 1)?,
            usage_days: days(input, "usageDays", 1)?,
            actor_id: input.opt_id("actorId")?,
            updated_at_ms: input.timestamp("updatedAtMs")?,
        })
    }
}

/// `setRetention({orgId, auditDays?, usageDays?})`: null (or absent) keeps for ever.
pub fn set(conn: &Db, ctx: &RequestContext, req: SetRetention) -> Result<Retention> {
    let SetRetention { org_id, audit_days, usage_days, actor_id, updated_at_ms: at } = req;
    db::write_org(conn, &org_id, |c| {
        orgs::guard(c, &org_id, WriteKind::Other)?;
        c.execute(
            "INSERT INTO _smithers_cp_retention (org_id, audit_days, usage_days, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(org_id) DO UPDATE SET audit_days = excluded.audit_days, usage_days = excluded.usage_days,
               updated_at_ms = excluded.updated_at_ms",
            params![org_id, audit_days, usage_days, at],
        )?;
        chain::insert(
            c,
            ctx,
            &NewEvent {
                org_id: &org_id,
                project_id: None,
                actor_id: actor_id.as_deref(),
                action: "retention.set",
                target_type: "org",
                target_id: Some(&org_id),
                occurred_at_ms: at,
                metadata: json!({ "auditDays": audit_days, "usageDays": usage_days }),
            },
        )?;
        Ok(())
    })?;
    Ok(Retention { org_id, audit_days, usage_days, updated_at_ms: Some(at) })
}

/// `getRetention({orgId})`: the org's retention; `null` days where none was set.
pub fn get(conn: &Db, _ctx: &RequestContext, req: OrgRef) -> Result<Retention> {
    let OrgRef { org_id } = req;
    db::read(conn, |c| {
        if orgs::get(c, &org_id)?.is_none() {
            return Err(CpError::org_not_found(&org_id));
        }
        let row = c.row(
            "SELECT audit_days, usage_days, updated_at_ms FROM _smithers_cp_retention WHERE org_id = ?1",
            params![org_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let (audit_days, usage_days, updated_at_ms) = row.unwrap_or((None, None, None));
        Ok(Retention { org_id: org_id.clone(), audit_days, usage_days, updated_at_ms })
    })
}

/// What a purge removed (or, in a dry run, would remove).
#[derive(Debug, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlanePurge")]
pub struct Purge {
    pub dry_run: bool,
    pub now_ms: i64,
    /// Whether everything due is done; `false` when `maxBatches` stopped the purge first.
    pub done: bool,
    pub batches: i64,
    /// Rows removed (or, in a dry run, to remove) per table.
    pub deleted: TableCounts,
    /// The soft-deleted orgs removed.
    pub orgs: Vec<String>,
}

/// One kind of rows a retention purges: the retention column giving its days, its table
/// and time column, and the work of one batch (one write transaction).
struct Kind {
    days: &'static str,
    table: &'static str,
    time: &'static str,
    /// Cut at the start of a day (usage: the rollups keep whole days of purged sums).
    day_aligned: bool,
    batch: fn(&Db, &str, i64, i64) -> Result<i64>,
}

/// Purges (or counts) one kind of rows for every org with a policy for it; `false` when
/// `max_batches` stopped it first.
fn purge_rows(conn: &Db, kind: &Kind, report: &mut Purge, batch: i64, max_batches: i64) -> Result<bool> {
    let policies: Vec<(String, i64)> = conn.rows(
        &format!("SELECT org_id, {0} FROM _smithers_cp_retention WHERE {0} IS NOT NULL ORDER BY org_id", kind.days),
        params![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    for (org_id, days) in policies {
        let edge = report.now_ms.saturating_sub(days.saturating_mul(DAY));
        let cutoff = if kind.day_aligned { edge - edge.rem_euclid(DAY) } else { edge };
        if report.dry_run {
            let n: i64 = conn.one(
                &format!("SELECT COUNT(*) AS n FROM {} WHERE org_id = ?1 AND {} < ?2", kind.table, kind.time),
                params![org_id, cutoff],
                |r| r.get(0),
            )?;
            report.deleted.add(kind.table, n);
            continue;
        }
        loop {
            if report.batches >= max_batches {
                return Ok(false);
            }
            let n = db::write_org(conn, &org_id, |c| (kind.batch)(c, &org_id, cutoff, batch))?;
            report.batches += 1;
            report.deleted.add(kind.table, n);
            if n < batch {
                break;
            }
        }
    }
    Ok(true)
}

/// `purgeExpired`'s input.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlanePurgeExpiredInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct PurgeExpired {
    /// The time retentions are counted back from; now when missing.
    #[ts(as = "Option<i64>")]
    pub now_ms: i64,
    /// Only count what is due; `false` when missing.
    #[ts(as = "Option<bool>")]
    pub dry_run: bool,
    /// Days a soft-deleted org is kept before it is removed; 30 when missing.
    #[ts(as = "Option<i64>")]
    pub deleted_org_grace_days: i64,
    /// Events removed per write transaction; 1000 when missing.
    #[ts(as = "Option<i64>")]
    pub batch_size: i64,
    /// Stop after this many batches (`done: false`); no limit when missing.
    #[ts(as = "Option<i64>")]
    pub max_batches: i64,
}

impl FromInput for PurgeExpired {
    fn from_input(input: &Input) -> Result<Self> {
        Ok(PurgeExpired {
            now_ms: input.timestamp("nowMs")?,
            dry_run: input.bool_or("dryRun", false)?,
            deleted_org_grace_days: days(input, "deletedOrgGraceDays", 0)?.unwrap_or(DELETED_ORG_GRACE_DAYS),
            batch_size: days(input, "batchSize", 1)?.unwrap_or(1_000),
            max_batches: days(input, "maxBatches", 1)?.unwrap_or(i64::MAX),
        })
    }
}

/// `purgeExpired({nowMs?, dryRun?, deletedOrgGraceDays?, batchSize?, maxBatches?})`.
pub fn purge(conn: &Db, _ctx: &RequestContext, req: PurgeExpired) -> Result<Purge> {
    let PurgeExpired { now_ms: now, dry_run, deleted_org_grace_days: grace, batch_size: batch, max_batches } = req;
    let mut report = Purge { dry_run, now_ms: now, done: true, batches: 0, deleted: TableCounts::default(), orgs: Vec::new() };

    // Audit events past each org's retention; usage events past it, from the start of the
    // day their period ends in (their sums stay in the rollups, as millisecond sums).
    let kinds: [Kind; 2] = [
        Kind { days: "audit_days", table: "_smithers_cp_audit_events", time: "occurred_at_ms", day_aligned: false, batch: audit::purge_expired },
        Kind { days: "usage_days", table: "_smithers_cp_usage_events", time: "observed_at_ms", day_aligned: true, batch: crate::metering::rollups::purge_usage },
    ];
    for kind in &kinds {
        if !purge_rows(conn, kind, &mut report, batch, max_batches)? {
            report.done = false;
            return Ok(report);
        }
    }

    // Soft-deleted orgs past the grace period, removed as a hard delete does.
    let due: Vec<String> = conn.rows(
        "SELECT org_id FROM _smithers_cp_orgs WHERE status = 'deleted' AND deleted_at_ms < ?1 ORDER BY org_id",
        params![now.saturating_sub(grace.saturating_mul(DAY))],
        |r| r.get(0),
    )?;
    for org_id in due {
        if report.batches >= max_batches {
            report.done = false;
            return Ok(report);
        }
        let counts = db::write_org(conn, &org_id, |c| orgs::hard_delete(c, &org_id, dry_run))?;
        report.batches += 1;
        for (table, n) in counts.0 {
            report.deleted.add(&table, n);
        }
        report.orgs.push(org_id);
    }
    Ok(report)
}
