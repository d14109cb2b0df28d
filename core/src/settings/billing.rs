//! Billing accounts: one per org.

use crate::chain::{self, NewEvent};
use crate::db;
use crate::error::{CpError, Result};
use crate::request::{FromInput, RequestContext};
use crate::tenancy::orgs::{self, OrgRef, WriteKind};
use crate::parents::Parents;
use crate::validate::{now_ms, Input};
use crate::params;
use crate::engine::Row;
use crate::db::Db;
use serde::Serialize;
use serde_json::{json, Value};
use ts_rs::TS;

#[derive(Debug, Serialize, Clone, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneBillingAccount")]
pub struct BillingAccount {
    pub org_id: String,
    pub plan: String,
    /// The customer's id at the billing provider.
    pub billing_customer_id: Option<String>,
    pub status: String,
    pub updated_at_ms: i64,
}

/// `upsertBillingAccount`'s input: the org's one account, created or replaced.
#[derive(Debug, Clone, PartialEq, TS)]
#[ts(rename = "ControlPlaneUpsertBillingAccountInput", rename_all = "camelCase", optional_fields = nullable)]
pub struct UpsertBillingAccount {
    pub org_id: String,
    pub plan: String,
    /// Kept as given (not trimmed; empty allowed); `null` when missing.
    pub billing_customer_id: Option<String>,
    /// `active` when missing.
    pub status: Option<String>,
    /// Now when missing.
    pub updated_at_ms: Option<i64>,
}

impl FromInput for UpsertBillingAccount {
    fn from_input(input: &Input) -> Result<Self> {
        // In the order the store has always read them, so the same field is named first.
        let org_id = input.id("orgId")?;
        let updated_at_ms = input.timestamp("updatedAtMs")?;
        let status = input.string_or("status", "active")?;
        let plan = input.string("plan")?;
        let billing_customer_id = match input.get("billingCustomerId") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(CpError::field("billingCustomerId", "billingCustomerId must be a string or null.")),
        };
        Ok(UpsertBillingAccount { org_id, plan, billing_customer_id, status: Some(status), updated_at_ms: Some(updated_at_ms) })
    }
}

fn from_row(r: &dyn Row) -> Result<BillingAccount> {
    Ok(BillingAccount {
        org_id: r.get(0)?,
        plan: r.get(1)?,
        billing_customer_id: r.get(2)?,
        status: r.get(3)?,
        updated_at_ms: r.get(4)?,
    })
}

/// `upsertBillingAccount`: the account and its `billing.account.upsert` event.
pub fn upsert(conn: &Db, ctx: &RequestContext, req: UpsertBillingAccount) -> Result<BillingAccount> {
    let account = BillingAccount {
        org_id: req.org_id,
        plan: req.plan,
        billing_customer_id: req.billing_customer_id,
        status: req.status.unwrap_or_else(|| "active".into()),
        updated_at_ms: req.updated_at_ms.unwrap_or_else(now_ms),
    };
    db::write_org(conn, &account.org_id, |c| {
        orgs::guard(c, &account.org_id, WriteKind::Other)?;
        c.execute(
            "INSERT INTO _smithers_cp_billing_accounts (org_id, plan, billing_customer_id, status, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(org_id) DO UPDATE SET
               plan = excluded.plan,
               billing_customer_id = excluded.billing_customer_id,
               status = excluded.status,
               updated_at_ms = excluded.updated_at_ms",
        params![
            account.org_id,
            account.plan,
            account.billing_customer_id,
            account.status,
            account.updated_at_ms
        ])
        .map_err(|e| Parents::org(&account.org_id).explain(c, e))?;
        chain::insert(
            c,
            ctx,
            &NewEvent {
                org_id: &account.org_id,
                project_id: None,
                actor_id: None,
                action: "billing.account.upsert",
                target_type: "billing_account",
                target_id: Some(&account.org_id),
                occurred_at_ms: account.updated_at_ms,
                metadata: json!({ "plan": account.plan, "status": account.status }),
            },
        )?;
        Ok(())
    })?;
    Ok(account)
}

pub(crate) fn get(conn: &Db, org_id: &str) -> Result<Option<BillingAccount>> {
    Ok(conn
        .row(
            "SELECT org_id, plan, billing_customer_id, status, updated_at_ms
             FROM _smithers_cp_billing_accounts WHERE org_id = ?1",
        params![org_id], from_row)?)
}

/// `getBillingAccount({orgId})`.
pub fn get_account(conn: &Db, _ctx: &RequestContext, req: OrgRef) -> Result<Option<BillingAccount>> {
    get(conn, &req.org_id)
}
