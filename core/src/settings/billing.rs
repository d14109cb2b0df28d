//! Billing accounts: one per org.

use crate::audit::{self, NewEvent};
use crate::db;
use crate::error::{CpError, Result};
use crate::tenancy::orgs::{self, WriteKind};
use crate::tenancy::parents::Parents;
use crate::validate::Input;
use crate::params;
use crate::engine::Row;
use crate::db::Db;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BillingAccount {
    pub org_id: String,
    pub plan: String,
    pub billing_customer_id: Option<String>,
    pub status: String,
    pub updated_at_ms: i64,
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

/// `upsertBillingAccount`.
pub fn upsert(conn: &Db, input: &Input) -> Result<BillingAccount> {
    let account = BillingAccount {
        org_id: input.id("orgId")?,
        updated_at_ms: input.timestamp("updatedAtMs")?,
        status: input.string_or("status", "active")?,
        plan: input.string("plan")?,
        billing_customer_id: match input.get("billingCustomerId") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(CpError::field("billingCustomerId", "billingCustomerId must be a string or null."))
            }
        },
    };
    db::write(conn, |c| {
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
        audit::insert_legacy(
            c,
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

pub fn get(conn: &Db, org_id: &str) -> Result<Option<BillingAccount>> {
    Ok(conn
        .row(
            "SELECT org_id, plan, billing_customer_id, status, updated_at_ms
             FROM _smithers_cp_billing_accounts WHERE org_id = ?1",
        params![org_id], from_row)?)
}

/// `getBillingAccount({orgId})`.
pub fn get_input(conn: &Db, input: &Input) -> Result<Option<BillingAccount>> {
    get(conn, &input.id("orgId")?)
}
