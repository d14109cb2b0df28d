// The result types as callers compiled against them before they were generated: the
// hand-written declarations of version 0.1.0. Each generated type must be exactly this
// shape (a field of another type, a field more or less, fails tsc here), so generation
// changed no caller's types. Compiled by `tsc -p __tests__/types`.
import type * as Generated from "../../index.js";

/** The same type, written either way (an intersection or one object, any nesting). */
type Simplify<T> = T extends (...args: any[]) => any ? T : T extends object ? { [K in keyof T]: Simplify<T[K]> } : T;
type Equals<A, B> = (<T>() => T extends Simplify<A> ? 1 : 2) extends <T>() => T extends Simplify<B> ? 1 : 2 ? true : false;

declare namespace Contract {
  export type ControlPlaneOrgStatus = "active" | "suspended" | "deleted";
  export type ControlPlaneOrg = {
    orgId: string;
    slug: string;
    name: string;
    createdAtMs: number;
    status: ControlPlaneOrgStatus;
    suspendedAtMs: number | null;
    suspendReason: string | null;
    deletedAtMs: number | null;
  };
  export type ControlPlanePage<T> = { items: T[]; nextCursor: string | null };
  export type ControlPlaneTeamMember = {
    orgId: string;
    teamId: string;
    userId: string;
    role: string;
    createdAtMs: number;
  };
  export type ControlPlaneProjectTeam = {
    orgId: string;
    projectId: string;
    teamId: string;
    role: string;
    createdAtMs: number;
  };
  export type ControlPlaneProjectAccess = {
    orgId: string;
    projectId: string;
    userId: string;
    /** The distinct project roles granted to the user's teams, sorted. */
    roles: string[];
    grants: { teamId: string; role: string; memberRole: string }[];
  };
  export type ControlPlaneQuotaLimits = {
    maxProjects: number | null;
    maxTeams: number | null;
    maxMembersPerTeam: number | null;
    maxSecretRefs: number | null;
    maxIdentityProviders: number | null;
  };
  export type ControlPlaneOrgQuota = {
    orgId: string;
    limits: ControlPlaneQuotaLimits;
    used: { projects: number; teams: number; membersInFullestTeam: number; secretRefs: number; identityProviders: number };
  };
  export type ControlPlaneOrgDeletion =
    | { mode: "soft"; org: ControlPlaneOrg }
    | { mode: "hard"; orgId: string; deleted: Record<string, number> };
  export type ControlPlaneFileExport = {
    path: string;
    format: "json" | "ndjson" | "csv";
    exportedAtMs: number;
    bytes: number;
    projects: number;
    teams: number;
    identityProviders: number;
    usageLimits: number;
    secretRefs: number;
    /** Added with credits. */
    creditGrants: number;
    usageCorrections: number;
    auditEvents: number;
  };
  export type ControlPlaneChainReport = {
    ok: boolean;
    /** Chained events whose link and hash were checked. */
    checked: number;
    /** Events without a hash, written by a store that does not chain (not tampering). */
    unchained: number;
    /** Chained events this store removed on purpose (with their project), bridged by kept hashes. */
    redacted: number;
    firstBadId?: number;
  };
  export type ControlPlaneTeam = {
    orgId: string;
    teamId: string;
    slug: string;
    name: string;
    createdAtMs: number;
  };
  export type ControlPlaneProject = {
    orgId: string;
    projectId: string;
    slug: string;
    name: string;
    metadata: Record<string, unknown>;
    createdAtMs: number;
  };
  export type ControlPlaneBillingAccount = {
    orgId: string;
    plan: string;
    billingCustomerId: string | null;
    status: string;
    updatedAtMs: number;
  };
  export type ControlPlaneIdentityProvider = {
    orgId: string;
    providerId: string;
    type: string;
    issuer: string;
    ssoUrl: string | null;
    certificateRef: string | null;
    status: string;
    metadata: Record<string, unknown>;
    createdAtMs: number;
    updatedAtMs: number;
  };
  export type ControlPlaneUsageEvent = {
    id: number;
    orgId: string;
    projectId: string | null;
    runId: string | null;
    metric: string;
    quantity: number;
    unit: string;
    observedAtMs: number;
    metadata: Record<string, unknown>;
    /** Present only when the event was recorded with an idempotency key. */
    idempotencyKey?: string;
    /** With a key: `true` when the key had been seen and this is the original event. */
    duplicate?: boolean;
  };
  export type ControlPlaneUsagePeriod = "daily" | "weekly" | "monthly";
  export type ControlPlaneUsageLimit = {
    orgId: string;
    projectId: string | null;
    metric: string;
    unit: string;
    period: string;
    limitQuantity: number;
    updatedAtMs: number;
  };
  export type ControlPlaneUsageLimitCheck = ControlPlaneUsageLimit & {
    usedQuantity: number;
    remainingQuantity: number;
    exceeded: boolean;
  };
  export type ControlPlaneUsageSummary = {
    orgId: string;
    metric: string;
    unit: string;
    quantity: number;
  };
  export type ControlPlaneUsageDimension = "projectId" | "metric" | "unit";
  export type ControlPlaneUsageGroup = {
    orgId: string;
    /** Start of the hour, day or UTC calendar month, when bucketed. */
    bucketStartMs?: number;
    projectId?: string | null;
    metric?: string;
    unit?: string;
    quantity: number;
  };
  export type ControlPlaneConsumeCheck = ControlPlaneUsageLimitCheck & {
    /** The period ending at the event, which `usedQuantity` covers. */
    sinceMs: number;
    untilMs: number;
    /** Usage already recorded after the event's time, within one period of it; it counts against the limit too. */
    laterQuantity: number;
    /** `usedQuantity + laterQuantity + quantity <= limitQuantity` */
    allowed: boolean;
  };
  export type ControlPlaneConsumption = {
    allowed: boolean;
    event: ControlPlaneUsageEvent | null;
    checks: ControlPlaneConsumeCheck[];
    /** Added with credits: only with `requireBalance`, so a 0.1.0 caller never sees it. */
    balance?: { allowed: boolean; before: number; after: number };
  };
  export type ControlPlaneSecretRef = {
    orgId: string;
    projectId: string | null;
    name: string;
    provider: string;
    ref: string;
    createdBy: string | null;
    createdAtMs: number;
    rotatedAtMs: number | null;
  };
  export type ControlPlaneAuditEvent = {
    id: number;
    orgId: string;
    projectId: string | null;
    actorId: string | null;
    action: string;
    targetType: string;
    targetId: string | null;
    occurredAtMs: number;
    metadata: Record<string, unknown>;
    /** Present on events written with a request context. */
    ipAddress?: string;
    userAgent?: string;
    requestId?: string;
  };
  export type ControlPlaneExport = {
    exportedAtMs: number;
    org: ControlPlaneOrg;
    projects: ControlPlaneProject[];
    teams: ControlPlaneTeam[];
    billing: ControlPlaneBillingAccount | null;
    identityProviders: ControlPlaneIdentityProvider[];
    usage: ControlPlaneUsageSummary[];
    usageLimits: ControlPlaneUsageLimit[];
    secretRefs: ControlPlaneSecretRef[];
    /** Added with credits: the generated types' own. */
    creditGrants: Generated.ControlPlaneCreditGrant[];
    usageCorrections: Generated.ControlPlaneUsageCorrection[];
    auditEvents: ControlPlaneAuditEvent[];
  };
  export type ControlPlaneRetention = { orgId: string; auditDays: number | null; usageDays: number | null; updatedAtMs: number | null };
  export type ControlPlanePurge = {
    dryRun: boolean;
    nowMs: number;
    done: boolean;
    batches: number;
    /** Rows removed (or, in a dry run, to remove) per table. */
    deleted: Record<string, number>;
    /** The soft-deleted orgs removed. */
    orgs: string[];
  };
  export type ControlPlaneRequestContext = {
    /** The default actor of every audited write made through the handle. */
    actorId?: string;
    ipAddress?: string;
    userAgent?: string;
    requestId?: string;
  };
  export type ControlPlaneRequestOrigin = { ipAddress?: string; userAgent?: string; requestId?: string };
}

export const sameShapes: {
  ControlPlaneOrgStatus: Equals<Generated.ControlPlaneOrgStatus, Contract.ControlPlaneOrgStatus>;
  ControlPlaneOrg: Equals<Generated.ControlPlaneOrg, Contract.ControlPlaneOrg>;
  ControlPlaneTeamMember: Equals<Generated.ControlPlaneTeamMember, Contract.ControlPlaneTeamMember>;
  ControlPlaneProjectTeam: Equals<Generated.ControlPlaneProjectTeam, Contract.ControlPlaneProjectTeam>;
  ControlPlaneProjectAccess: Equals<Generated.ControlPlaneProjectAccess, Contract.ControlPlaneProjectAccess>;
  ControlPlaneQuotaLimits: Equals<Generated.ControlPlaneQuotaLimits, Contract.ControlPlaneQuotaLimits>;
  ControlPlaneOrgQuota: Equals<Generated.ControlPlaneOrgQuota, Contract.ControlPlaneOrgQuota>;
  ControlPlaneOrgDeletion: Equals<Generated.ControlPlaneOrgDeletion, Contract.ControlPlaneOrgDeletion>;
  ControlPlaneFileExport: Equals<Generated.ControlPlaneFileExport, Contract.ControlPlaneFileExport>;
  ControlPlaneChainReport: Equals<Generated.ControlPlaneChainReport, Contract.ControlPlaneChainReport>;
  ControlPlaneTeam: Equals<Generated.ControlPlaneTeam, Contract.ControlPlaneTeam>;
  ControlPlaneProject: Equals<Generated.ControlPlaneProject, Contract.ControlPlaneProject>;
  ControlPlaneBillingAccount: Equals<Generated.ControlPlaneBillingAccount, Contract.ControlPlaneBillingAccount>;
  ControlPlaneIdentityProvider: Equals<Generated.ControlPlaneIdentityProvider, Contract.ControlPlaneIdentityProvider>;
  ControlPlaneUsageEvent: Equals<Generated.ControlPlaneUsageEvent, Contract.ControlPlaneUsageEvent>;
  ControlPlaneUsagePeriod: Equals<Generated.ControlPlaneUsagePeriod, Contract.ControlPlaneUsagePeriod>;
  ControlPlaneUsageLimit: Equals<Generated.ControlPlaneUsageLimit, Contract.ControlPlaneUsageLimit>;
  ControlPlaneUsageLimitCheck: Equals<Generated.ControlPlaneUsageLimitCheck, Contract.ControlPlaneUsageLimitCheck>;
  ControlPlaneUsageSummary: Equals<Generated.ControlPlaneUsageSummary, Contract.ControlPlaneUsageSummary>;
  ControlPlaneUsageDimension: Equals<Generated.ControlPlaneUsageDimension, Contract.ControlPlaneUsageDimension>;
  ControlPlaneUsageGroup: Equals<Generated.ControlPlaneUsageGroup, Contract.ControlPlaneUsageGroup>;
  ControlPlaneConsumeCheck: Equals<Generated.ControlPlaneConsumeCheck, Contract.ControlPlaneConsumeCheck>;
  ControlPlaneConsumption: Equals<Generated.ControlPlaneConsumption, Contract.ControlPlaneConsumption>;
  ControlPlaneSecretRef: Equals<Generated.ControlPlaneSecretRef, Contract.ControlPlaneSecretRef>;
  ControlPlaneAuditEvent: Equals<Generated.ControlPlaneAuditEvent, Contract.ControlPlaneAuditEvent>;
  ControlPlaneExport: Equals<Generated.ControlPlaneExport, Contract.ControlPlaneExport>;
  ControlPlaneRetention: Equals<Generated.ControlPlaneRetention, Contract.ControlPlaneRetention>;
  ControlPlanePurge: Equals<Generated.ControlPlanePurge, Contract.ControlPlanePurge>;
  ControlPlaneRequestContext: Equals<Generated.ControlPlaneRequestContext, Contract.ControlPlaneRequestContext>;
  ControlPlaneRequestOrigin: Equals<Generated.ControlPlaneRequestOrigin, Contract.ControlPlaneRequestOrigin>;
} = {
  ControlPlaneOrgStatus: true,
  ControlPlaneOrg: true,
  ControlPlaneTeamMember: true,
  ControlPlaneProjectTeam: true,
  ControlPlaneProjectAccess: true,
  ControlPlaneQuotaLimits: true,
  ControlPlaneOrgQuota: true,
  ControlPlaneOrgDeletion: true,
  ControlPlaneFileExport: true,
  ControlPlaneChainReport: true,
  ControlPlaneTeam: true,
  ControlPlaneProject: true,
  ControlPlaneBillingAccount: true,
  ControlPlaneIdentityProvider: true,
  ControlPlaneUsageEvent: true,
  ControlPlaneUsagePeriod: true,
  ControlPlaneUsageLimit: true,
  ControlPlaneUsageLimitCheck: true,
  ControlPlaneUsageSummary: true,
  ControlPlaneUsageDimension: true,
  ControlPlaneUsageGroup: true,
  ControlPlaneConsumeCheck: true,
  ControlPlaneConsumption: true,
  ControlPlaneSecretRef: true,
  ControlPlaneAuditEvent: true,
  ControlPlaneExport: true,
  ControlPlaneRetention: true,
  ControlPlanePurge: true,
  ControlPlaneRequestContext: true,
  ControlPlaneRequestOrigin: true,
};
export const samePage: Equals<Generated.ControlPlanePage<Generated.ControlPlaneOrg>, Contract.ControlPlanePage<Contract.ControlPlaneOrg>> = true;
