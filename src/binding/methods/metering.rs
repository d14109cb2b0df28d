//! Usage events, usage limits and the rollups' check.

use control_plane_core::metering::credits::{balance, corrections, grants};
use control_plane_core::metering::{consume, limits, rollups, usage};

crate::binding::declare::operations! {
    /// Records one event; a repeated idempotency key returns the event first recorded.
    recordUsage: gathered Input Required usage::record, [Store Scope Async],
        "input: ControlPlaneUsageInput" => "ControlPlaneUsageEvent";
    /// Records every event or none, in one transaction; errors name the event's index.
    recordUsageBatch: built Batch Required usage::record_batch, [Store Scope Async],
        "events: ControlPlaneUsageInput[], options?: { returning?: R | null }" => "ControlPlaneUsageBatchOf<R>" where "R extends ControlPlaneUsageBatchReturning = \"events\"";
    /// Checks every limit that applies (the project's and the org-wide ones, every period)
    /// and records the event only if it fits them all, atomically; with `requireBalance`,
    /// only if the balance of its scope at its time covers it too.
    consumeUsage: gathered Options Required consume::consume, [Store Scope Async],
        "input: ControlPlaneUsageInput, options?: ControlPlaneConsumeOptions" => "ControlPlaneConsumption";
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
    /// A grant of credits on a metric and unit, the org's or a project's; audited. A
    /// repeated idempotency key returns the grant first made with it.
    grantCredits: value Input Required grants::grant, [Store Scope Async],
        "input: ControlPlaneGrantCreditsInput & ControlPlaneRequestOrigin" => "ControlPlaneCreditGrant";
    /// The grant stops counting at `voidedAtMs` (now); it still counts for the time it was active.
    voidGrant: value Input Required grants::void, [Store Scope Async],
        "input: ControlPlaneVoidGrantInput & ControlPlaneRequestOrigin" => "ControlPlaneCreditGrant";
    /// By grant id; `activeAtMs` keeps the grants active then.
    listGrants: value Input Required grants::list, [Store Scope Async],
        "input: ControlPlaneListGrantsInput" => "ControlPlanePage<ControlPlaneCreditGrant>";
    /// The balance of a scope at an instant (now by default), past or present.
    getBalance: value Input Required balance::get, [Store Scope Async],
        "input: ControlPlaneGetBalanceInput" => "ControlPlaneBalance";
    /// The event counts as 0 from now on, at its own time (a compensating event; the
    /// original is kept); audited.
    voidUsage: value Input Required corrections::void, [Store Scope Async],
        "input: ControlPlaneCorrectUsageInput & ControlPlaneRequestOrigin" => "ControlPlaneUsageCorrection";
    /// The event counts with its new quantity from now on, at its own time; audited.
    amendUsage: value Input Required corrections::amend, [Store Scope Async],
        "input: ControlPlaneAmendUsageInput & ControlPlaneRequestOrigin" => "ControlPlaneUsageCorrection";
}
