//! The audit log: events, queries, the chain's check, exports, and retention.

use control_plane_core::audit::{self, export, retention};

crate::binding::declare::operations! {
    recordAuditEvent: value Input Required audit::record, [Store Scope Async],
        "input: ControlPlaneRecordAuditEventInput & ControlPlaneRequestOrigin" => "ControlPlaneAuditEvent";
    /// One org's events, filtered, in time order, a page at a time.
    queryAuditLog: value Input Optional audit::query, [Store Scope Async],
        "input?: ControlPlaneAuditQuery" => "ControlPlanePage<ControlPlaneAuditEvent>";
    /// SQLite's query plan for the same query: which index serves it.
    explainAuditQuery: value Input Optional audit::explain, [Store Scope Async],
        "input?: ControlPlaneAuditQuery" => "string[]";
    /// Walks the org's audit hash chain; `firstBadId` names the first event that fails.
    verifyAuditChain: value Input Optional audit::verify, [Store Scope Async],
        "input?: ControlPlaneOrgRef" => "ControlPlaneChainReport";
    /// `verifyAuditChain` on the thread pool (on another binding's handle, on the JS thread).
    verifyAuditChainAsync: task Input Required audit::verify, [Store Scope Async],
        "input: ControlPlaneOrgRef" => "ControlPlaneChainReport";
    exportOrgAudit: value Input Required export::export, [Store Scope Async],
        "input: ControlPlaneExportOrgAuditInput" => "ControlPlaneExport";
    /// `exportOrgAudit` on the thread pool (on another binding's handle, on the JS thread).
    exportOrgAuditAsync: task Input Required export::export, [Store Scope Async],
        "input: ControlPlaneExportOrgAuditInput" => "ControlPlaneExport";
    /// Streams the export to `path` in constant memory, atomically, on the thread pool (on
    /// another binding's handle, on the JS thread).
    exportOrgAuditToFile: task Input Required export::export_to_file, [Store Scope Async],
        "input: ControlPlaneExportOrgAuditToFileInput" => "ControlPlaneFileExport";
    /// How long the org's audit and usage events are kept.
    setRetention: value Input Required retention::set, [Store Scope Async],
        "input: ControlPlaneSetRetentionInput & ControlPlaneRequestOrigin" => "ControlPlaneRetention";
    getRetention: value Input Optional retention::get, [Store Scope Async],
        "input?: ControlPlaneOrgRef" => "ControlPlaneRetention";
    /// Removes, in bounded batches, the audit and usage events past each org's retention
    /// and the soft-deleted orgs past their grace period; `dryRun` only counts.
    purgeExpired: value Input Optional retention::purge, [Store Async],
        "input?: ControlPlanePurgeExpiredInput" => "ControlPlanePurge";
}
