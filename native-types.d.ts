// Generated, do not edit: the request and result types from the core's Rust types
// (`UPDATE_TYPES=1 cargo test -p control-plane-core typescript`), then the classes from the
// binding's #[napi] definitions (`npm run build`). index.d.ts adds the rest.
import type { ControlPlaneSqlite } from "./index";

/** Where a request came from, written on every audit event the call writes. */
export type ControlPlaneRequestOrigin = Omit<ControlPlaneRequestContext, "actorId">;
/** An org-level method's input on a handle scoped to one org: `orgId` put in by the handle. */
export type ScopedInput<I> = Omit<I, "orgId"> & { orgId?: string } & ControlPlaneRequestOrigin;
/** What `recordUsageBatch` returns for its `returning` option: the events, or their ids. */
export type ControlPlaneUsageBatchOf<R> = R extends "ids" ? ControlPlaneUsageIds : ControlPlaneUsageEvent[];
/**
 * What `summarizeUsage` returns for its input: the default summary (per metric and unit)
 * unless the input groups (`groupBy`) or buckets (`bucket`) the rows.
 */
export type ControlPlaneUsageRows<I> = I extends { groupBy?: undefined | null; bucket?: undefined | null; [field: string]: unknown }
  ? ControlPlaneUsageSummary[]
  : ControlPlaneUsageGroup[];

/**
 * Who made a request and from where: read from a call's input (`actorId`, `ipAddress`,
 * `userAgent`, `requestId`; an org-scoped handle fills them from its context) and
 * written on every audit event the call writes: the actor where the write names none of
 * its own, the origin always.
 */
export type ControlPlaneRequestContext = { actorId?: string, ipAddress?: string, userAgent?: string, requestId?: string, };

/**
 * A page of a listing; pass `nextCursor` back as `cursor` for the next one (null: no more).
 */
export type ControlPlanePage<T> = { items: Array<T>, nextCursor: string | null, };

/**
 * Where a page starts and how long it is: `limit` 1 to 1000 (default 50), and the
 * `cursor` a previous page gave (its key, decoded).
 */
export type ControlPlanePageInput = { 
/**
 * 1 to 1000; 50 when missing.
 */
limit?: number | null, 
/**
 * The `nextCursor` of the page before; the first page when missing.
 */
cursor?: string | null, };

export type ControlPlaneOrg = { orgId: string, slug: string, name: string, createdAtMs: number, status: ControlPlaneOrgStatus, suspendedAtMs: number | null, suspendReason: string | null, deletedAtMs: number | null, };

/**
 * An org's lifecycle state.
 */
export type ControlPlaneOrgStatus = "active" | "suspended" | "deleted";

/**
 * `createOrg`'s input.
 */
export type ControlPlaneCreateOrgInput = { 
/**
 * A random UUID when missing or blank.
 */
orgId?: string | null, slug: string, name: string, 
/**
 * Now when missing.
 */
createdAtMs?: number | null, };

/**
 * `getOrg(orgId)` and the other calls that name one org and nothing else.
 */
export type ControlPlaneOrgRef = { orgId: string, };

/**
 * `getOrgBySlug(slug)`.
 */
export type ControlPlaneOrgSlug = { slug: string, };

/**
 * `listOrgs`'s input.
 */
export type ControlPlaneListOrgsInput = { 
/**
 * Deleted orgs are listed only with `status: "deleted"`.
 */
status?: ControlPlaneOrgStatus | null, 
/**
 * 1 to 1000; 50 when missing.
 */
limit?: number | null, 
/**
 * The `nextCursor` of the page before; the first page when missing.
 */
cursor?: string | null, };

/**
 * `suspendOrg`'s input.
 */
export type ControlPlaneSuspendOrgInput = { orgId: string, reason: string, actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, };

/**
 * `unsuspendOrg`'s input.
 */
export type ControlPlaneUnsuspendOrgInput = { orgId: string, actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, };

/**
 * How `deleteOrg` removes an org.
 */
export type ControlPlaneOrgDeleteMode = "soft" | "hard";

/**
 * `deleteOrg`'s input.
 */
export type ControlPlaneDeleteOrgInput = { orgId: string, 
/**
 * `soft` when missing.
 */
mode?: ControlPlaneOrgDeleteMode | null, actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, };

/**
 * What `deleteOrg` did.
 */
export type ControlPlaneOrgDeletion = { "mode": "soft", org: ControlPlaneOrg, } | { "mode": "hard", orgId: string, deleted: Record<string, number>, };

export type ControlPlaneTeam = { orgId: string, teamId: string, slug: string, name: string, createdAtMs: number, };

/**
 * A user's membership of a team.
 */
export type ControlPlaneTeamMember = { orgId: string, teamId: string, userId: string, 
/**
 * The user's role in the team.
 */
role: string, createdAtMs: number, };

/**
 * `createTeam`'s input.
 */
export type ControlPlaneCreateTeamInput = { orgId: string, 
/**
 * A random UUID when missing or blank.
 */
teamId?: string | null, 
/**
 * Unique within the org.
 */
slug: string, name: string, 
/**
 * Now when missing.
 */
createdAtMs?: number | null, };

/**
 * `addTeamMember`'s input.
 */
export type ControlPlaneAddTeamMemberInput = { orgId: string, teamId: string, userId: string, 
/**
 * `member` when missing; replaces the role of a member already there.
 */
role?: string | null, 
/**
 * Now when missing; a member already there keeps its own.
 */
createdAtMs?: number | null, };

/**
 * `listTeams`'s input.
 */
export type ControlPlaneListTeamsInput = { orgId: string, 
/**
 * 1 to 1000; 50 when missing.
 */
limit?: number | null, 
/**
 * The `nextCursor` of the page before; the first page when missing.
 */
cursor?: string | null, };

/**
 * `getTeam`'s input.
 */
export type ControlPlaneGetTeamInput = { orgId: string, teamId: string, };

/**
 * `listTeamMembers`'s input.
 */
export type ControlPlaneListTeamMembersInput = { orgId: string, teamId: string, 
/**
 * 1 to 1000; 50 when missing.
 */
limit?: number | null, 
/**
 * The `nextCursor` of the page before; the first page when missing.
 */
cursor?: string | null, };

/**
 * `removeTeamMember`'s input.
 */
export type ControlPlaneRemoveTeamMemberInput = { orgId: string, teamId: string, userId: string, actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, };

/**
 * `deleteTeam`'s input.
 */
export type ControlPlaneDeleteTeamInput = { orgId: string, teamId: string, actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, };

export type ControlPlaneProject = { orgId: string, projectId: string, slug: string, name: string, metadata: Record<string, unknown>, createdAtMs: number, };

/**
 * A team's grant on a project.
 */
export type ControlPlaneProjectTeam = { orgId: string, projectId: string, teamId: string, 
/**
 * The role the team holds on the project.
 */
role: string, createdAtMs: number, };

/**
 * `createProject`'s input.
 */
export type ControlPlaneCreateProjectInput = { orgId: string, 
/**
 * A random UUID when missing or blank.
 */
projectId?: string | null, 
/**
 * Unique within the org.
 */
slug: string, name: string, 
/**
 * A JSON object (at most 64 KiB of JSON, 16 levels deep); `{}` when missing.
 */
metadata?: Record<string, unknown> | null, 
/**
 * Now when missing.
 */
createdAtMs?: number | null, };

/**
 * `addProjectTeam`'s input.
 */
export type ControlPlaneAddProjectTeamInput = { orgId: string, projectId: string, teamId: string, 
/**
 * `viewer` when missing; replaces the role of a grant already there.
 */
role?: string | null, 
/**
 * Now when missing; a grant already there keeps its own.
 */
createdAtMs?: number | null, };

/**
 * `listProjects`'s input.
 */
export type ControlPlaneListProjectsInput = { orgId: string, 
/**
 * 1 to 1000; 50 when missing.
 */
limit?: number | null, 
/**
 * The `nextCursor` of the page before; the first page when missing.
 */
cursor?: string | null, };

/**
 * `getProject`'s input.
 */
export type ControlPlaneGetProjectInput = { orgId: string, projectId: string, };

/**
 * `listProjectTeams`'s input.
 */
export type ControlPlaneListProjectTeamsInput = { orgId: string, projectId: string, 
/**
 * 1 to 1000; 50 when missing.
 */
limit?: number | null, 
/**
 * The `nextCursor` of the page before; the first page when missing.
 */
cursor?: string | null, };

/**
 * `removeProjectTeam`'s input.
 */
export type ControlPlaneRemoveProjectTeamInput = { orgId: string, projectId: string, teamId: string, actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, };

/**
 * `deleteProject`'s input.
 */
export type ControlPlaneDeleteProjectInput = { orgId: string, projectId: string, actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, };

/**
 * One team through which a user reaches a project.
 */
export type ControlPlaneAccessGrant = { teamId: string, 
/**
 * The role the team holds on the project.
 */
role: string, 
/**
 * The user's role in the team.
 */
memberRole: string, };

/**
 * What a user may do on a project, through the teams they belong to.
 */
export type ControlPlaneProjectAccess = { orgId: string, projectId: string, userId: string, 
/**
 * The distinct project roles granted, sorted.
 */
roles: Array<string>, grants: Array<ControlPlaneAccessGrant>, };

/**
 * `listProjectAccess`'s input.
 */
export type ControlPlaneListProjectAccessInput = { orgId: string, userId: string, };

/**
 * `getProjectAccess`'s input.
 */
export type ControlPlaneGetProjectAccessInput = { orgId: string, projectId: string, userId: string, };

/**
 * An org's limits: `null` where there is none.
 */
export type ControlPlaneQuotaLimits = { maxProjects: number | null, maxTeams: number | null, maxMembersPerTeam: number | null, maxSecretRefs: number | null, maxIdentityProviders: number | null, };

/**
 * What an org holds of each resource with a quota.
 */
export type ControlPlaneQuotaUsage = { projects: number, teams: number, 
/**
 * The member count of the org's fullest team.
 */
membersInFullestTeam: number, secretRefs: number, identityProviders: number, };

/**
 * An org's quotas and how much of each it uses.
 */
export type ControlPlaneOrgQuota = { orgId: string, limits: ControlPlaneQuotaLimits, used: ControlPlaneQuotaUsage, };

/**
 * `setOrgQuota`'s input. Each limit is a whole number >= 0 (at most 10^15), `null` for
 * no limit, or left out to keep the one set.
 */
export type ControlPlaneSetOrgQuotaInput = { orgId: string, actorId?: string | null, 
/**
 * Now when missing.
 */
updatedAtMs?: number | null, maxProjects?: number | null, maxTeams?: number | null, maxMembersPerTeam?: number | null, maxSecretRefs?: number | null, maxIdentityProviders?: number | null, };

export type ControlPlaneBillingAccount = { orgId: string, plan: string, 
/**
 * The customer's id at the billing provider.
 */
billingCustomerId: string | null, status: string, updatedAtMs: number, };

/**
 * `upsertBillingAccount`'s input: the org's one account, created or replaced.
 */
export type ControlPlaneUpsertBillingAccountInput = { orgId: string, plan: string, 
/**
 * Kept as given (not trimmed; empty allowed); `null` when missing.
 */
billingCustomerId?: string | null, 
/**
 * `active` when missing.
 */
status?: string | null, 
/**
 * Now when missing.
 */
updatedAtMs?: number | null, };

export type ControlPlaneIdentityProvider = { orgId: string, providerId: string, 
/**
 * `saml`, `oidc`, or another kind the caller names.
 */
type: string, issuer: string, ssoUrl: string | null, 
/**
 * Where the signing certificate is kept (a reference, not the certificate).
 */
certificateRef: string | null, status: string, metadata: Record<string, unknown>, createdAtMs: number, updatedAtMs: number, };

/**
 * `upsertIdentityProvider`'s input: an update replaces every field but `createdAtMs`.
 */
export type ControlPlaneUpsertIdentityProviderInput = { orgId: string, 
/**
 * A random UUID when missing or blank.
 */
providerId?: string | null, type: "saml" | "oidc" | (string & {}), issuer: string, ssoUrl?: string | null, certificateRef?: string | null, 
/**
 * `active` when missing.
 */
status?: string | null, 
/**
 * A JSON object (at most 64 KiB of JSON, 16 levels deep); `{}` when missing.
 */
metadata?: Record<string, unknown> | null, 
/**
 * `updatedAtMs` when missing; an update keeps the provider's first one.
 */
createdAtMs?: number | null, 
/**
 * Now when missing.
 */
updatedAtMs?: number | null, };

/**
 * `listIdentityProviders`'s input.
 */
export type ControlPlaneListIdentityProvidersInput = { orgId: string, 
/**
 * Only the providers of this status; all when missing.
 */
status?: string | null, };

/**
 * `deleteIdentityProvider`'s input.
 */
export type ControlPlaneDeleteIdentityProviderInput = { orgId: string, providerId: string, actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, };

/**
 * A reference to a secret kept in a secret manager; never the secret's value.
 */
export type ControlPlaneSecretRef = { orgId: string, 
/**
 * `null` for an org-wide ref.
 */
projectId: string | null, name: string, 
/**
 * The secret manager holding the value.
 */
provider: string, 
/**
 * Where the value is in the manager.
 */
ref: string, createdBy: string | null, createdAtMs: number, rotatedAtMs: number | null, };

/**
 * `putSecretRef`'s input. A `ref` that looks like a secret value (a key, a token, a
 * private key, a long random string) is refused with `SECRET_VALUE_REJECTED`.
 */
export type ControlPlanePutSecretRefInput = { orgId: string, 
/**
 * The project the ref belongs to; org-wide when missing, `null` or empty.
 */
projectId?: string | null, 
/**
 * Unique within its scope (the project, or the org-wide refs): a put replaces the ref of
 * that name.
 */
name: string, provider: string, ref: string, 
/**
 * Also the actor of the audit event.
 */
createdBy?: string | null, 
/**
 * Now when missing.
 */
createdAtMs?: number | null, rotatedAtMs?: number | null, };

/**
 * `listSecretRefs`'s input.
 */
export type ControlPlaneListSecretRefsInput = { orgId: string, 
/**
 * Missing: every ref of the org; `null` or empty: the org-wide refs only; an id: that
 * project's refs.
 */
projectId?: string | null, };

/**
 * `deleteSecretRef`'s input.
 */
export type ControlPlaneDeleteSecretRefInput = { orgId: string, 
/**
 * The ref's project; the org-wide ref when missing, `null` or empty.
 */
projectId?: string | null, name: string, actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, };

/**
 * One of the store's tables and its rows.
 */
export type ControlPlaneTableRows = { table: string, rows: number, };

/**
 * What `stats()` reports.
 */
export type ControlPlaneStats = { 
/**
 * The store's schema version in this database.
 */
schemaVersion: number, 
/**
 * Every `_smithers_cp_` table, by name.
 */
tables: Array<ControlPlaneTableRows>, };

/**
 * What `checkIntegrity()` reports.
 */
export type ControlPlaneIntegrity = { 
/**
 * `"ok"`, or SQLite's first report of what is wrong.
 */
integrity: string, };

/**
 * A usage event as recorded.
 */
export type ControlPlaneUsageEvent = { id: number, orgId: string, projectId: string | null, runId: string | null, metric: string, quantity: number, unit: string, observedAtMs: number, metadata: Record<string, unknown>, 
/**
 * Present only for events recorded with a key.
 */
idempotencyKey?: string, 
/**
 * With a key: `true` when the key had been seen and this is the event first recorded
 * with it.
 */
duplicate?: boolean, };

/**
 * `recordUsage`'s and `consumeUsage`'s input: a usage event about to be recorded,
 * validated, its defaults filled in as it is read.
 */
export type ControlPlaneUsageInput = { orgId: string, projectId?: string | null, runId?: string | null, metric: string, 
/**
 * A finite number >= 0.
 */
quantity: number, 
/**
 * `count` when missing.
 */
unit?: string | null, 
/**
 * Now when missing.
 */
observedAtMs?: number | null, 
/**
 * A JSON object (at most 64 KiB of JSON, 16 levels deep); `{}` when missing.
 */
metadata?: Record<string, unknown> | null, 
/**
 * The same key in the same org records once (at most 255 characters).
 */
idempotencyKey?: string | null, };

/**
 * What `recordUsageBatch` hands back.
 */
export type ControlPlaneUsageBatchReturning = "events" | "ids";

/**
 * `recordUsageBatch`'s input: the events, each read as `recordUsage` reads one.
 */
export type ControlPlaneRecordUsageBatchInput = { events: Array<ControlPlaneUsageInput>, 
/**
 * `events` when missing.
 */
returning?: ControlPlaneUsageBatchReturning | null, };

/**
 * What `recordUsageBatch` recorded: the events, or (`returning: "ids"`) their ids.
 */
export type ControlPlaneUsageBatch = Array<ControlPlaneUsageEvent> | ControlPlaneUsageIds;

/**
 * The ids of a batch's events, in the batch's order.
 */
export type ControlPlaneUsageIds = { count: number, ids: Array<number>, };

/**
 * A usage window, both ends inclusive; all time when neither end is given.
 */
export type ControlPlaneUsageWindow = { 
/**
 * 0 when missing.
 */
sinceMs?: number | null, 
/**
 * The end of time when missing.
 */
untilMs?: number | null, };

/**
 * The dimensions a summary can group by.
 */
export type ControlPlaneUsageDimension = "projectId" | "metric" | "unit";

/**
 * The time buckets a summary can sum by: hours, days, or UTC calendar months.
 */
export type ControlPlaneUsageBucket = "hour" | "day" | "month";

/**
 * `summarizeUsage`'s input: which events a summary reads, and how it groups them.
 */
export type ControlPlaneUsageSummaryInput = { orgId: string, 
/**
 * Absent: every event; `null`: events without a project; an id: that project's.
 */
projectId?: string | null, metric?: string | null, 
/**
 * `["metric", "unit"]` when missing.
 */
groupBy?: Array<ControlPlaneUsageDimension> | null, 
/**
 * Not bucketed in time when missing.
 */
bucket?: ControlPlaneUsageBucket | null, 
/**
 * 0 when missing.
 */
sinceMs?: number | null, 
/**
 * The end of time when missing.
 */
untilMs?: number | null, };

/**
 * A row of a summary: the grouped fields are present, the others not.
 */
export type ControlPlaneUsageGroup = { orgId: string, 
/**
 * Start of the hour, day or UTC calendar month, when bucketed.
 */
bucketStartMs?: number, 
/**
 * When grouped by project: the project, or `null` for events without one.
 */
projectId?: string | null, metric?: string, unit?: string, quantity: number, };

/**
 * The quantity of one metric and unit in a window: the default summary's row.
 */
export type ControlPlaneUsageSummary = { orgId: string, metric: string, unit: string, quantity: number, };

/**
 * The period of a usage limit: a day, a week (7 days) or a month (30 days), ending at the
 * time checked.
 */
export type ControlPlaneUsagePeriod = "daily" | "weekly" | "monthly";

/**
 * A limit on one metric and unit, over a period: the org's (`projectId` null) or one
 * project's.
 */
export type ControlPlaneUsageLimit = { orgId: string, projectId: string | null, metric: string, unit: string, period: string, limitQuantity: number, updatedAtMs: number, };

/**
 * A limit with what was used in the window checked.
 */
export type ControlPlaneUsageLimitCheck = { usedQuantity: number, remainingQuantity: number, exceeded: boolean, orgId: string, projectId: string | null, metric: string, unit: string, period: string, limitQuantity: number, updatedAtMs: number, };

/**
 * `setUsageLimit`'s input.
 */
export type ControlPlaneSetUsageLimitInput = { 
/**
 * A finite number >= 0.
 */
limitQuantity: number, 
/**
 * Now when missing.
 */
updatedAtMs?: number | null, orgId: string, 
/**
 * The project's limit; the org-wide one when missing.
 */
projectId?: string | null, metric: string, 
/**
 * `count` when missing.
 */
unit?: string | null, 
/**
 * `monthly` when missing.
 */
period?: ControlPlaneUsagePeriod | null, };

/**
 * `checkUsageLimit`'s input: which limit, and the window to weigh against it.
 */
export type ControlPlaneCheckUsageLimitInput = { 
/**
 * One period before `untilMs` (not before 0) when missing.
 */
sinceMs?: number | null, 
/**
 * Now when missing.
 */
untilMs?: number | null, orgId: string, 
/**
 * The project's limit; the org-wide one when missing.
 */
projectId?: string | null, metric: string, 
/**
 * `count` when missing.
 */
unit?: string | null, 
/**
 * `monthly` when missing.
 */
period?: ControlPlaneUsagePeriod | null, };

/**
 * One limit as `consumeUsage` weighed it: usage in its window before this event, and
 * whether the event fits.
 */
export type ControlPlaneConsumeCheck = { 
/**
 * The period ending at the event, which `usedQuantity` covers.
 */
sinceMs: number, untilMs: number, 
/**
 * Usage already recorded after the event's time, within one period of it (events of
 * another process that committed first, or a backdated event's successors); it
 * counts against the limit too.
 */
laterQuantity: number, 
/**
 * `usedQuantity + laterQuantity + quantity <= limitQuantity`.
 */
allowed: boolean, usedQuantity: number, remainingQuantity: number, exceeded: boolean, orgId: string, projectId: string | null, metric: string, unit: string, period: string, limitQuantity: number, updatedAtMs: number, };

/**
 * What `consumeUsage` decided: the event, recorded only if it fits every limit that
 * applies, and each limit as weighed.
 */
export type ControlPlaneConsumption = { allowed: boolean, 
/**
 * The event recorded (or first recorded with its idempotency key); `null` when refused.
 */
event: ControlPlaneUsageEvent | null, checks: Array<ControlPlaneConsumeCheck>, 
/**
 * With `requireBalance`: the balance the event was weighed against.
 */
balance?: ControlPlaneBalanceCheck, };

/**
 * `listUsageLimits`'s input.
 */
export type ControlPlaneListUsageLimitsInput = { orgId: string, 
/**
 * Absent: every limit of the org; `null`: the org-wide ones; an id: that project's.
 */
projectId?: string | null, 
/**
 * 1 to 1000; 50 when missing.
 */
limit?: number | null, 
/**
 * The `nextCursor` of the page before; the first page when missing.
 */
cursor?: string | null, };

/**
 * `deleteUsageLimit`'s input: the limit's key, and who removes it when.
 */
export type ControlPlaneDeleteUsageLimitInput = { actorId?: string | null, 
/**
 * Now when missing.
 */
atMs?: number | null, orgId: string, 
/**
 * The project's limit; the org-wide one when missing.
 */
projectId?: string | null, metric: string, 
/**
 * `count` when missing.
 */
unit?: string | null, 
/**
 * `monthly` when missing.
 */
period?: ControlPlaneUsagePeriod | null, };

/**
 * The balance an event was weighed against (`consumeUsage` with `requireBalance`): the
 * balance of its scope at its time before it, and after it when admitted.
 */
export type ControlPlaneBalanceCheck = { 
/**
 * Whether the balance covers the event: at its time, and without leaving uncovered any
 * usage recorded after it that the grants covered before.
 */
allowed: boolean, before: number, 
/**
 * `before` less the event when it was recorded; `before` when not.
 */
after: number, };

/**
 * `consumeUsage`'s options.
 */
export type ControlPlaneConsumeOptions = { 
/**
 * Admit the event only if the balance of its scope at its time covers it
 * (`getBalance`); false when missing.
 */
requireBalance?: boolean | null, };

/**
 * How a recurring grant resets: every `periodMs` from `anchorMs`.
 */
export type ControlPlaneCreditRecurrence = { periodMs: number, anchorMs: number, };

/**
 * What a recurring grant carries over at a reset: `min(maxAmount, max(minAmount, left))`.
 */
export type ControlPlaneCreditRollover = { maxAmount: number, minAmount: number, };

/**
 * A grant of credits on one metric and unit: the org's (`projectId` null) or a project's.
 */
export type ControlPlaneCreditGrant = { grantId: string, orgId: string, projectId: string | null, metric: string, unit: string, amount: number, priority: number, effectiveAtMs: number, expiresAtMs: number | null, recurrence: ControlPlaneCreditRecurrence | null, rollover: ControlPlaneCreditRollover | null, voidedAtMs: number | null, voidReason: string | null, idempotencyKey: string | null, metadata: Record<string, unknown>, createdAtMs: number, };

/**
 * `recurrence`'s input: `period` a name (`daily`, `weekly`, `monthly`: 1, 7, 30 days) or
 * a whole number of milliseconds (at least 1000); `anchorMs` the grant's effect when missing.
 */
export type ControlPlaneCreditRecurrenceInput = { period: "daily" | "weekly" | "monthly" | number, anchorMs?: number | null, };

/**
 * `rollover`'s input: `minAmount` 0 when missing, at most `maxAmount`.
 */
export type ControlPlaneCreditRolloverInput = { maxAmount: number, minAmount?: number | null, };

/**
 * `grantCredits`' input.
 */
export type ControlPlaneGrantCreditsInput = { orgId: string, 
/**
 * The project's grant (its usage draws on it first); the org's when missing.
 */
projectId?: string | null, metric: string, 
/**
 * `count` when missing.
 */
unit?: string | null, 
/**
 * A finite number >= 0.
 */
amount: number, 
/**
 * Lower burns first; 0 when missing.
 */
priority?: number | null, 
/**
 * Now when missing.
 */
effectiveAtMs?: number | null, 
/**
 * Never when missing; after `effectiveAtMs`.
 */
expiresAtMs?: number | null, recurrence?: ControlPlaneCreditRecurrenceInput | null, 
/**
 * Only with a recurrence; nothing carries over when missing.
 */
rollover?: ControlPlaneCreditRolloverInput | null, 
/**
 * A new id when missing.
 */
grantId?: string | null, 
/**
 * The same key in the same org grants once.
 */
idempotencyKey?: string | null, metadata?: Record<string, unknown> | null, actorId?: string | null, };

/**
 * `voidGrant`'s input.
 */
export type ControlPlaneVoidGrantInput = { orgId: string, grantId: string, reason: string, 
/**
 * Now when missing; not before the grant's effect.
 */
voidedAtMs?: number | null, actorId?: string | null, };

/**
 * `listGrants`' input.
 */
export type ControlPlaneListGrantsInput = { orgId: string, 
/**
 * Absent: every grant of the org; `null`: the org's own; an id: that project's.
 */
projectId?: string | null, metric?: string | null, 
/**
 * Only the grants active then (in effect, not expired, not voided).
 */
activeAtMs?: number | null, 
/**
 * 1 to 1000; 50 when missing.
 */
limit?: number | null, 
/**
 * The `nextCursor` of the page before; the first page when missing.
 */
cursor?: string | null, };

/**
 * A grant's remaining at an instant.
 */
export type ControlPlaneGrantRemaining = { grantId: string, projectId: string | null, remaining: number, 
/**
 * When it stops counting: its expiry or its voiding, the first; `null` for never.
 */
expiresAtMs: number | null, };

/**
 * A scope's balance at an instant.
 */
export type ControlPlaneBalance = { 
/**
 * What the scope may still draw on: the remaining of the grants listed.
 */
balance: number, 
/**
 * The org's usage of the metric and unit, up to then, that no grant covered (every
 * project's and the org's own: the account's, whichever scope is asked for).
 */
overage: number, 
/**
 * The grants the scope draws on that are active then, in the order usage burns them.
 */
grants: Array<ControlPlaneGrantRemaining>, atMs: number, };

/**
 * `getBalance`'s input.
 */
export type ControlPlaneGetBalanceInput = { orgId: string, 
/**
 * The project's balance (its own grants, then the org's); the org's when missing.
 */
projectId?: string | null, metric: string, 
/**
 * `count` when missing.
 */
unit?: string | null, 
/**
 * Now when missing; any instant, past or future.
 */
atMs?: number | null, };

/**
 * What a correction did.
 */
export type ControlPlaneCorrectionKind = "void" | "amend";

/**
 * A correction as recorded.
 */
export type ControlPlaneUsageCorrection = { orgId: string, 
/**
 * The event corrected.
 */
eventId: number, kind: ControlPlaneCorrectionKind, 
/**
 * The event's quantity before and after.
 */
previousQuantity: number, quantity: number, 
/**
 * The compensating event, which carries `quantity - previousQuantity`.
 */
compensatingEventId: number, observedAtMs: number, reason: string, actorId: string | null, createdAtMs: number, };

/**
 * `voidUsage`'s and `amendUsage`'s input: the event by its id or its idempotency key.
 */
export type ControlPlaneCorrectUsageInput = { orgId: string, 
/**
 * The event's id, or (without it) its `idempotencyKey`.
 */
eventId?: number | null, idempotencyKey?: string | null, reason: string, actorId?: string | null, };

/**
 * `amendUsage`'s input: `CorrectUsage` with the new quantity.
 */
export type ControlPlaneAmendUsageInput = { 
/**
 * The event's new quantity, a finite number >= 0.
 */
quantity: number, orgId: string, 
/**
 * The event's id, or (without it) its `idempotencyKey`.
 */
eventId?: number | null, idempotencyKey?: string | null, reason: string, actorId?: string | null, };

/**
 * `checkRollups`'s input.
 */
export type ControlPlaneCheckRollupsInput = { 
/**
 * Rebuild the rollups when they disagree with the raw events; `true` when missing.
 */
repair?: boolean | null, };

/**
 * What `checkRollups` found and did.
 */
export type ControlPlaneRollupCheck = { 
/**
 * The day-level totals of every org, metric and unit equal the raw events'.
 */
consistent: boolean, 
/**
 * The rollups were rebuilt from the raw events.
 */
repaired: boolean, };

/**
 * An event of an org's audit log.
 */
export type ControlPlaneAuditEvent = { id: number, orgId: string, projectId: string | null, actorId: string | null, action: string, targetType: string, targetId: string | null, occurredAtMs: number, metadata: Record<string, unknown>, 
/**
 * Where the request came from, when the caller said (absent for events without).
 */
ipAddress?: string, userAgent?: string, requestId?: string, };

/**
 * `recordAuditEvent`'s input: a caller's own event.
 */
export type ControlPlaneRecordAuditEventInput = { orgId: string, projectId?: string | null, 
/**
 * The request context's actor when missing.
 */
actorId?: string | null, action: string, targetType: string, targetId?: string | null, 
/**
 * Now when missing.
 */
occurredAtMs?: number | null, 
/**
 * A JSON object (at most 64 KiB of JSON, 16 levels deep); `{}` when missing.
 */
metadata?: Record<string, unknown> | null, };

/**
 * The order of an audit query's events, by time.
 */
export type ControlPlaneAuditOrder = "asc" | "desc";

/**
 * `queryAuditLog`'s and `explainAuditQuery`'s input: one org's events, the given filters
 * all applying.
 */
export type ControlPlaneAuditQuery = { orgId: string, projectId?: string | null, actorId?: string | null, action?: string | null, targetType?: string | null, targetId?: string | null, 
/**
 * 0 when missing.
 */
sinceMs?: number | null, 
/**
 * The end of time when missing. Both ends inclusive.
 */
untilMs?: number | null, 
/**
 * `asc` when missing.
 */
order?: ControlPlaneAuditOrder | null, ipAddress?: string | null, requestId?: string | null, 
/**
 * 1 to 1000; 50 when missing.
 */
limit?: number | null, 
/**
 * The `nextCursor` of the page before; the first page when missing.
 */
cursor?: string | null, };

/**
 * What `verifyAuditChain` found.
 */
export type ControlPlaneChainReport = { ok: boolean, 
/**
 * Chained events whose link and hash were checked.
 */
checked: number, 
/**
 * Events without a hash (written by a store that does not chain).
 */
unchained: number, 
/**
 * Chained events this store removed on purpose, bridged by their kept hashes.
 */
redacted: number, 
/**
 * The first event that fails; 0 when chained events have no chain head.
 */
firstBadId?: number, };

/**
 * Everything an org holds, read from one snapshot.
 */
export type ControlPlaneExport = { exportedAtMs: number, org: ControlPlaneOrg, projects: Array<ControlPlaneProject>, teams: Array<ControlPlaneTeam>, billing: ControlPlaneBillingAccount | null, identityProviders: Array<ControlPlaneIdentityProvider>, 
/**
 * Summed per metric and unit over the window.
 */
usage: Array<ControlPlaneUsageSummary>, usageLimits: Array<ControlPlaneUsageLimit>, secretRefs: Array<ControlPlaneSecretRef>, 
/**
 * Every credit grant of the org, voided and expired ones too, by id.
 */
creditGrants: Array<ControlPlaneCreditGrant>, 
/**
 * The corrections of usage made in the window, in order.
 */
usageCorrections: Array<ControlPlaneUsageCorrection>, 
/**
 * The events in the window, by time.
 */
auditEvents: Array<ControlPlaneAuditEvent>, };

/**
 * `exportOrgAudit`'s input.
 */
export type ControlPlaneExportOrgAuditInput = { orgId: string, 
/**
 * Now when missing.
 */
exportedAtMs?: number | null, 
/**
 * 0 when missing.
 */
sinceMs?: number | null, 
/**
 * The end of time when missing.
 */
untilMs?: number | null, };

/**
 * The layout of an export file: `json`, the `exportOrgAudit` object; `ndjson`, one record
 * a line, each with a `type`; `csv`, the audit events only, with a header (grants, their
 * voiding and corrections are there as their audit events).
 */
export type ControlPlaneExportFormat = "json" | "ndjson" | "csv";

/**
 * `exportOrgAuditToFile`'s input.
 */
export type ControlPlaneExportOrgAuditToFileInput = { orgId: string, 
/**
 * Replaced whole once the export is written; a temporary file beside it until then.
 */
path: string, format: ControlPlaneExportFormat, 
/**
 * Now when missing.
 */
exportedAtMs?: number | null, 
/**
 * 0 when missing.
 */
sinceMs?: number | null, 
/**
 * The end of time when missing.
 */
untilMs?: number | null, };

/**
 * What `exportOrgAuditToFile` wrote.
 */
export type ControlPlaneFileExport = { path: string, format: ControlPlaneExportFormat, exportedAtMs: number, 
/**
 * The file's size, in bytes.
 */
bytes: number, projects: number, teams: number, identityProviders: number, usageLimits: number, secretRefs: number, creditGrants: number, usageCorrections: number, auditEvents: number, };

/**
 * How long an org's events are kept.
 */
export type ControlPlaneRetention = { orgId: string, 
/**
 * Days an audit event is kept after it occurred; `null`: kept for ever.
 */
auditDays: number | null, 
/**
 * Days a usage event is kept as a row (from the start of its day); its sums stay in
 * the rollups for ever. `null`: kept for ever.
 */
usageDays: number | null, 
/**
 * When it was last set; `null` when it never was.
 */
updatedAtMs: number | null, };

/**
 * `setRetention`'s input.
 */
export type ControlPlaneSetRetentionInput = { orgId: string, 
/**
 * Days an audit event is kept after it occurred (a whole number, 1 to 1000000);
 * missing or `null`: kept for ever.
 */
auditDays?: number | null, 
/**
 * Days a usage event is kept as a row, from the start of its day (a whole number, 1
 * to 1000000); its sums stay in the rollups. Missing or `null`: kept for ever.
 */
usageDays?: number | null, actorId?: string | null, 
/**
 * Now when missing.
 */
updatedAtMs?: number | null, };

/**
 * `purgeExpired`'s input.
 */
export type ControlPlanePurgeExpiredInput = { 
/**
 * The time retentions are counted back from; now when missing.
 */
nowMs?: number | null, 
/**
 * Only count what is due; `false` when missing.
 */
dryRun?: boolean | null, 
/**
 * Days a soft-deleted org is kept before it is removed; 30 when missing.
 */
deletedOrgGraceDays?: number | null, 
/**
 * Events removed per write transaction; 1000 when missing.
 */
batchSize?: number | null, 
/**
 * Stop after this many batches (`done: false`); no limit when missing.
 */
maxBatches?: number | null, };

/**
 * What a purge removed (or, in a dry run, would remove).
 */
export type ControlPlanePurge = { dryRun: boolean, nowMs: number, 
/**
 * Whether everything due is done; `false` when `maxBatches` stopped the purge first.
 */
done: boolean, batches: number, 
/**
 * Rows removed (or, in a dry run, to remove) per table.
 */
deleted: Record<string, number>, 
/**
 * The soft-deleted orgs removed.
 */
orgs: Array<string>, };

/**
 * Where a move stands, after `start` or a `step`.
 */
export type ControlPlaneMigrationProgress = { 
/**
 * The table being copied (the last one once all are).
 */
table: string, 
/**
 * Its rows copied, and its rows in the source.
 */
tableCopied: number, tableRows: number, 
/**
 * Rows copied over all tables, of the source's rows in all.
 */
copied: number, rows: number, 
/**
 * Tables copied whole, of the tables.
 */
tablesDone: number, tables: number, 
/**
 * This move began in an earlier run, and goes on where that one stopped.
 */
resumed: boolean, 
/**
 * Every table is copied and the ids' sequences set.
 */
done: boolean, };

/**
 * One table on both sides, after a move.
 */
export type ControlPlaneMigrationTable = { table: string, source: number, target: number, };

/**
 * What `verify` found on the target.
 */
export type ControlPlaneMigrationReport = { 
/**
 * Every table's rows match, every chain verifies, the rollups agree with the events.
 */
ok: boolean, tables: Array<ControlPlaneMigrationTable>, 
/**
 * Tables whose rows differ in number (the rollups' are held to their check instead).
 */
differing: Array<string>, 
/**
 * Orgs whose audit chain was verified on the target, and those that failed.
 */
orgs: number, brokenAuditChains: Array<string>, rollupsConsistent: boolean, 
/**
 * The file was written to while the move ran (its rows per table or its highest ids
 * are not the ones the move read): those writes are not in the target.
 */
sourceChanged: boolean, };
