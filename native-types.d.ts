// Generated, do not edit: the request and result types from the core's Rust types
// (`UPDATE_TYPES=1 cargo test -p control-plane-core typescript`), then the classes from the
// binding's #[napi] definitions (`npm run build`). index.d.ts adds the rest.
import type { ControlPlaneSqlite } from "./index";

/** Where a request came from, written on every audit event the call writes. */
export type ControlPlaneRequestOrigin = Omit<ControlPlaneRequestContext, "actorId">;
/** An org-level method's input on a handle scoped to one org: `orgId` put in by the handle. */
export type ScopedInput<I> = Omit<I, "orgId"> & { orgId?: string } & ControlPlaneRequestOrigin;

/**
 * Who made a request and from where: read from a call's input (`actorId`, `ipAddress`,
 * `userAgent`, `requestId`; an org-scoped handle fills them from its context) and
 * written on every audit event the call writes: the actor where the write names none of
 * its own, the origin always.
 */
export type ControlPlaneRequestContext = { actorId?: string | null, ipAddress?: string | null, userAgent?: string | null, requestId?: string | null, };

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
