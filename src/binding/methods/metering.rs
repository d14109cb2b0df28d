//! Usage events, usage limits and the rollups' check.

use control_plane_core::metering::{consume, limits, rollups, usage};

crate::binding::declare::operations! {
    /// Records one event; a repeated idempotency key returns the event first recorded.
    recordUsage: gathered Input Required usage::record, [Store Scope Async],
        "input: ControlPlaneUsageInput" => "ControlPlaneUsageEvent";
    /// Records every event or none, in one transaction; errors name the event's index.
    recordUsageBatch: built Batch Required usage::record_batch, [Store Scope Async],
        "events: ControlPlaneUsageInput[], options?: { returning?: R | null }" => "ControlPlaneUsageBatchOf<R>" where "R extends ControlPlaneUsageBatchReturning = \"events\"";
    /// Checks every limit that applies (the project's and the org-wide ones, every period)
    /// and records the event only if it fits them all, atomically.
    consumeUsage: gathered Input Required consume::consume, [Store Scope Async],
        "input: ControlPlaneUsageInput" => "ControlPlaneConsumption";
    /// By default the quantities summed per metric and unit over the window.
    summarizeUsage: value Input Required usage::summarize, [Store Scope Async],
        "input: I" => "ControlPlaneUsageRows<I>" where "I extends ControlPlaneUsageSummaryInput";
    setUsageLimit: value Input Required limits::set, [Store Scope Async],
        "input: ControlPlaneSetUsageLimitInput & ControlPlaneRequestOrigin" => "ControlPlaneUsageLimit";
    /// `null` when no limit is set for exactly this scope.
    checkUsageLimit: gathered Input Required limits::check, [Store Scope Async],
        "input: ControlPlaneCheckUsageLimitInput" => "ControlPlaneUsageLimitCheck | null";
    /// By (scope, metric, unit, period), the org-wide ones first.
    listUsageLimits: value Input Optional limits::list_page, [Store Scope Async],
        "input?: ControlPlaneListUsageLimitsInput" => "ControlPlanePage<ControlPlaneUsageLimit>";
    /// `NOT_FOUND` when no such limit is set.
    deleteUsageLimit: void Input Required limits::delete, [Store Scope Async],
        "input: ControlPlaneDeleteUsageLimitInput & ControlPlaneRequestOrigin" => "void";
    /// Compares the usage rollups with the raw events (a pass over every event) and
    /// rebuilds them when they disagree, unless `repair` is false. Opening a file trusts
    /// them; this is the check, on demand (`control-plane doctor`).
    checkRollups: value Input Optional rollups::check, [Store Async],
        "input?: ControlPlaneCheckRollupsInput" => "ControlPlaneRollupCheck";
}
