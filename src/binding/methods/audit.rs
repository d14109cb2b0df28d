//! The audit log: events, queries, the chain's check, exports, and retention.

use crate::binding::call::{self, Given::*};
use crate::binding::scope::OrgScope;
use crate::binding::async_call::AsyncCall;
use crate::binding::store::ControlPlaneStore;
use control_plane_core::audit::{self, export, retention};
use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

#[napi]
impl ControlPlaneStore {
    #[napi(ts_args_type = "input: ControlPlaneRecordAuditEventInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneAuditEvent")]
    pub fn record_audit_event<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, audit::record)
    }

    /// One org's events, filtered, in time order, a page at a time.
    #[napi(ts_args_type = "input?: ControlPlaneAuditQuery", ts_return_type = "ControlPlanePage<ControlPlaneAuditEvent>")]
    pub fn query_audit_log<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, audit::query)
    }

    /// SQLite's query plan for the same query: which index serves it.
    #[napi(ts_args_type = "input?: ControlPlaneAuditQuery", ts_return_type = "string[]")]
    pub fn explain_audit_query<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, audit::explain)
    }

    /// Walks the org's audit hash chain; `firstBadId` names the first event that fails.
    #[napi(ts_args_type = "input?: ControlPlaneOrgRef", ts_return_type = "ControlPlaneChainReport")]
    pub fn verify_audit_chain<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, audit::verify)
    }

    /// `verifyAuditChain` on the thread pool (on another binding's handle, on the JS thread).
    #[napi(ts_args_type = "input: ControlPlaneOrgRef", ts_return_type = "Promise<ControlPlaneChainReport>")]
    pub fn verify_audit_chain_async(&self, env: &Env, input: Option<Unknown>) -> Result<AsyncTask<AsyncCall>> {
        call::task(self, env, input, audit::verify)
    }

    #[napi(ts_args_type = "input: ControlPlaneExportOrgAuditInput", ts_return_type = "ControlPlaneExport")]
    pub fn export_org_audit<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, export::export)
    }

    /// `exportOrgAudit` on the thread pool (on another binding's handle, on the JS thread).
    #[napi(ts_args_type = "input: ControlPlaneExportOrgAuditInput", ts_return_type = "Promise<ControlPlaneExport>")]
    pub fn export_org_audit_async(&self, env: &Env, input: Option<Unknown>) -> Result<AsyncTask<AsyncCall>> {
        call::task(self, env, input, export::export)
    }

    /// Streams the export to `path` in constant memory, atomically, on the thread pool (on
    /// another binding's handle, on the JS thread).
    #[napi(ts_args_type = "input: ControlPlaneExportOrgAuditToFileInput", ts_return_type = "Promise<ControlPlaneFileExport>")]
    pub fn export_org_audit_to_file(&self, env: &Env, input: Option<Unknown>) -> Result<AsyncTask<AsyncCall>> {
        call::task(self, env, input, export::export_to_file)
    }

    /// How long the org's audit and usage events are kept.
    #[napi(ts_args_type = "input: ControlPlaneSetRetentionInput & ControlPlaneRequestOrigin", ts_return_type = "ControlPlaneRetention")]
    pub fn set_retention<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, retention::set)
    }

    #[napi(ts_args_type = "input?: ControlPlaneOrgRef", ts_return_type = "ControlPlaneRetention")]
    pub fn get_retention<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, retention::get)
    }

    /// Removes, in bounded batches, the audit and usage events past each org's retention
    /// and the soft-deleted orgs past their grace period; `dryRun` only counts.
    #[napi(ts_args_type = "input?: ControlPlanePurgeExpiredInput", ts_return_type = "ControlPlanePurge")]
    pub fn purge_expired<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, retention::purge)
    }
}

#[napi]
impl OrgScope {
    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneRecordAuditEventInput>", ts_return_type = "ControlPlaneAuditEvent")]
    pub fn record_audit_event<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, audit::record)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneAuditQuery>", ts_return_type = "ControlPlanePage<ControlPlaneAuditEvent>")]
    pub fn query_audit_log<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, audit::query)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneAuditQuery>", ts_return_type = "string[]")]
    pub fn explain_audit_query<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, audit::explain)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneOrgRef>", ts_return_type = "ControlPlaneChainReport")]
    pub fn verify_audit_chain<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, audit::verify)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneOrgRef>", ts_return_type = "Promise<ControlPlaneChainReport>")]
    pub fn verify_audit_chain_async(&self, env: &Env, input: Option<Unknown>) -> Result<AsyncTask<AsyncCall>> {
        call::task(self, env, input, audit::verify)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneExportOrgAuditInput>", ts_return_type = "ControlPlaneExport")]
    pub fn export_org_audit<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, export::export)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneExportOrgAuditInput>", ts_return_type = "Promise<ControlPlaneExport>")]
    pub fn export_org_audit_async(&self, env: &Env, input: Option<Unknown>) -> Result<AsyncTask<AsyncCall>> {
        call::task(self, env, input, export::export)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneExportOrgAuditToFileInput>", ts_return_type = "Promise<ControlPlaneFileExport>")]
    pub fn export_org_audit_to_file(&self, env: &Env, input: Option<Unknown>) -> Result<AsyncTask<AsyncCall>> {
        call::task(self, env, input, export::export_to_file)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneSetRetentionInput>", ts_return_type = "ControlPlaneRetention")]
    pub fn set_retention<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Required, retention::set)
    }

    #[napi(ts_args_type = "input?: ScopedInput<ControlPlaneOrgRef>", ts_return_type = "ControlPlaneRetention")]
    pub fn get_retention<'e>(&self, env: &'e Env, input: Option<Unknown>) -> Result<Unknown<'e>> {
        call::value(self, env, input, Optional, retention::get)
    }
}
