// Types of the native control-plane store. The shapes match the documented
// `smithers-orchestrator/control-plane` store, so a caller type-checks unchanged.

/** Row values the `Database` handle reads back. */
export type SQLValue = string | number | null | Uint8Array;
/** Values the `Database` handle binds. */
export type SQLParam = SQLValue | bigint | boolean | undefined;
export type SQLRow = Record<string, SQLValue>;

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

export declare class Statement<Row extends SQLRow = SQLRow> {
  readonly sql: string;
  run(...params: SQLParam[] | [Record<string, SQLParam>] | [SQLParam[]]): RunResult;
  get(...params: SQLParam[] | [Record<string, SQLParam>] | [SQLParam[]]): Row | null;
  all(...params: SQLParam[] | [Record<string, SQLParam>] | [SQLParam[]]): Row[];
}

/** A small bun:sqlite-shaped handle on a native SQLite connection. */
export declare class Database {
  /**
   * @param filename a file path (a new file is created readable and writable by its owner
   * only, and opened in WAL mode), or ":memory:" (the default).
   */
  constructor(filename?: string);
  readonly filename: string;
  readonly open: boolean;
  exec(sql: string): void;
  /** Returns the same statement for the same SQL. */
  query<Row extends SQLRow = SQLRow>(sql: string): Statement<Row>;
  prepare<Row extends SQLRow = SQLRow>(sql: string): Statement<Row>;
  /** Closes the connection (a store sharing it too); later calls fail with `CLOSED`. Closing twice is harmless. */
  close(): void;
}

/**
 * What the store binds to a statement of another binding's handle: an integer as a
 * number while it is exact (past 2^53, a `bigint`), a real as a number, text as a
 * string, a blob as a `Buffer`, NULL as `null`.
 */
export type SqliteBindValue = string | number | bigint | null | Uint8Array;

/**
 * A statement of another binding's handle, as the store uses it: `run(...params)` for a
 * statement that writes, `all(...params)` for rows, each given positional `SqliteBindValue`s.
 * A row may be an array or an object (its keys in column order), its values `null`,
 * `undefined`, booleans, numbers, `bigint`s, strings or `Uint8Array`s. Where the statement
 * has them, the store reads rows as arrays instead: bun:sqlite's `values(...params)`,
 * better-sqlite3's `raw(true)` (on a statement whose `reader` is true), node:sqlite's
 * `setReturnArrays(true)`.
 *
 * The parameters are typed `any[]`, not `SqliteBindValue[]`: better-sqlite3's typings give
 * `prepare(sql)` a statement whose `run` takes `[{}]`, which `SqliteBindValue` (with `null`)
 * does not fit, though the binding accepts every value the store binds.
 */
export interface SqliteStatementLike {
  run(...params: any[]): unknown;
  all(...params: any[]): unknown[];
  /** Not called by this store; here so that an inline handle's `get` is typed too. */
  get?(...params: any[]): unknown;
}

/**
 * Another SQLite binding's handle: a bun:sqlite `Database`, a better-sqlite3 `Database`, a
 * node:sqlite `DatabaseSync`, or any object with `exec(sql)` and `prepare(sql)` or
 * `query(sql)` (`prepare` when it has both) returning a statement (`SqliteStatementLike`).
 *
 * The store runs every statement through the handle, on its connection, on the JS thread;
 * it never opens the file itself. It turns `foreign_keys` on and changes no other setting.
 * A store write made while the handle's owner holds a transaction joins it as a savepoint
 * (the transaction is read from `inTransaction` or `isTransaction` where the handle has
 * one, else from SQLite's refusal of a nested `BEGIN`). `store.close()` lets go of the
 * handle and leaves it open: its owner closes it.
 */
export type SqliteHandle = { exec(sql: string): unknown } & (
  | { prepare(sql: string): SqliteStatementLike }
  | { query(sql: string): SqliteStatementLike }
);

/**
 * @deprecated Use `SqliteHandle`. This was a handle that names a file (`{name}`,
 * `{filename}`, `{location()}`); the store never opens another binding's file itself, so
 * such an object without `exec` and `prepare`/`query` is refused (`INVALID_INPUT`).
 */
export type ForeignSqliteHandle = SqliteHandle;

/**
 * What the store and `ensureControlPlaneTables` accept:
 * - a `Database` of this package: the store shares its connection;
 * - a file path, or `":memory:"`: the store opens a connection of its own (a file in WAL
 *   mode, created readable by its owner only), and `store.close()` closes it;
 * - another binding's handle (`SqliteHandle`): every statement runs through it.
 *
 * A `Database` is a `SqliteHandle` by its shape, so the union does not name it: naming it
 * would take away the parameter types an inline `{exec, query}` handle gets from this one
 * (its generic `query` and the handle's make no one contextual signature).
 */
export type ControlPlaneSqlite = string | SqliteHandle;

/**
 * The codes a `ControlPlaneError` has, each explained in docs/errors.md (its `docsUrl`).
 * `ControlPlaneErrorCode` is this interface's keys, so a `switch (err.code)` case with a
 * misspelt code does not compile.
 *
 * The escape hatch, for a code that a later version of the store adds before these types
 * name it: add the code to this interface in your project (declaration merging),
 *
 * ```ts
 * declare module "smithers-control-plane" {
 *   interface ControlPlaneErrorCodes {
 *     NEW_CODE: true;
 *   }
 * }
 * ```
 *
 * and `"NEW_CODE"` is then a `ControlPlaneErrorCode` everywhere in that project.
 */
export interface ControlPlaneErrorCodes {
  /** The input was refused (`details.field` names the field), or names a parent that does not exist. */
  INVALID_INPUT: true;
  /** An org, team or project with that slug or id already exists. */
  DUPLICATE_ID: true;
  /** A usage `idempotencyKey` already recorded in the org was sent with different content. */
  IDEMPOTENCY_CONFLICT: true;
  /** The org is suspended, and the write would create something new. */
  ORG_SUSPENDED: true;
  /** The org is soft-deleted: every write to it is refused. */
  ORG_DELETED: true;
  /** A removal of something that is not there. */
  NOT_FOUND: true;
  /** A create would take the org past a quota set with `setOrgQuota`. */
  QUOTA_EXCEEDED: true;
  /** `putSecretRef` was given a `ref` that looks like a credential itself. */
  SECRET_VALUE_REJECTED: true;
  /** The write lock could not be had. */
  BUSY: true;
  /** Any other failure of SQLite or of the file (or an export file). */
  STORAGE_ERROR: true;
  /** The connection is closed: `store.close()` was called, or the `Database` or handle's owner closed it. */
  CLOSED: true;
  /** A handle from `forOrg` was given an input that names another org. */
  TENANT_MISMATCH: true;
  /** The store could not use the SQLite handle it was given, outside any SQLite error. */
  INTERNAL: true;
}

/** One of the codes of `ControlPlaneErrorCodes`. */
export type ControlPlaneErrorCode = keyof ControlPlaneErrorCodes;

/**
 * Every error the store throws. `instanceof ControlPlaneError` holds in every realm and for
 * every copy of this package loaded in the process (a `Symbol.hasInstance` brand).
 */
export declare class ControlPlaneError extends Error {
  readonly name: "ControlPlaneError";
  readonly code: ControlPlaneErrorCode;
  /** One sentence saying what went wrong. */
  readonly summary: string;
  /** The same text as `summary`. */
  readonly message: string;
  /** A plain object whose fields docs/errors.md lists for the code, or `undefined`. */
  readonly details: Record<string, unknown> | undefined;
  /** A link to the code's entry in docs/errors.md (`...errors.md#duplicate_id`). */
  readonly docsUrl: string;
  /**
   * The error underneath, when there is one: what another binding's handle threw, on the
   * `BUSY`, `STORAGE_ERROR` (its message in `summary`) or `CLOSED` the store made of it, or
   * `options.cause` of an error constructed with one. Absent otherwise: a connection of the
   * store's own has no JS error underneath, and an error the store turns into one of its
   * own codes (a unique constraint into `DUPLICATE_ID`) carries none.
   */
  readonly cause?: unknown;
  constructor(code: ControlPlaneErrorCode, summary: string, details?: Record<string, unknown>, options?: { cause?: unknown });
}

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

/** A page of a listing; pass `nextCursor` back as `cursor` for the next one (null: no more). */
export type ControlPlanePage<T> = { items: T[]; nextCursor: string | null };

/** `limit`: 1 to 1000, default 50. */
export type ControlPlanePageInput = { cursor?: string | null; limit?: number };

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

export type ControlPlaneAuditQuery = ControlPlanePageInput & {
  orgId: string;
  projectId?: string | null;
  actorId?: string | null;
  action?: string;
  targetType?: string;
  targetId?: string | null;
  sinceMs?: number;
  untilMs?: number;
  order?: "asc" | "desc";
  ipAddress?: string;
  requestId?: string;
};

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

/** Where a request came from: recorded on every audit event the call writes. */
export type ControlPlaneRequestOrigin = { ipAddress?: string; userAgent?: string; requestId?: string };

/** Who did it and when, for the lifecycle and removal calls. */
type ActorInput = { actorId?: string | null; atMs?: number } & ControlPlaneRequestOrigin;

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

export type ControlPlaneUsageInput = {
  orgId: string;
  projectId?: string | null;
  runId?: string | null;
  metric: string;
  quantity: number;
  unit?: string;
  observedAtMs?: number;
  metadata?: Record<string, unknown>;
  /** The same key in the same org records once (at most 255 characters). */
  idempotencyKey?: string | null;
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

/** A row of a grouped or bucketed summary: the grouped fields are present, the others not. */
export type ControlPlaneUsageGroup = {
  orgId: string;
  /** Start of the hour, day or UTC calendar month, when bucketed. */
  bucketStartMs?: number;
  projectId?: string | null;
  metric?: string;
  unit?: string;
  quantity: number;
};

export type ControlPlaneUsageSummaryInput = {
  orgId: string;
  sinceMs?: number;
  untilMs?: number;
  /** Absent: every event; `null`: events without a project; an id: that project's. */
  projectId?: string | null;
  metric?: string;
  groupBy?: ControlPlaneUsageDimension[];
  bucket?: "hour" | "day" | "month";
};

/** One limit as consumeUsage weighed it: usage in its window before this event. */
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
  auditEvents: ControlPlaneAuditEvent[];
};

/**
 * Creates or upgrades the control-plane tables through `sqlite` (what the store's
 * constructor takes); idempotent. A connection it opened for a path is closed again; a
 * `Database` or another binding's handle is left open.
 */
export declare function ensureControlPlaneTables(sqlite: ControlPlaneSqlite): void;

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

/** Who is calling, for a handle scoped to one org (`store.forOrg`). */
export type ControlPlaneRequestContext = {
  /** The default actor of every audited write made through the handle. */
  actorId?: string;
  ipAddress?: string;
  userAgent?: string;
  requestId?: string;
};

/** A store method taken through an org-scoped handle: its input without `orgId`. */
type Scoped<M> = M extends (input: infer I) => infer R
  ? (input?: Omit<NonNullable<I>, "orgId"> & { orgId?: string }) => R
  : never;

/**
 * A handle scoped to one org (`store.forOrg(orgId, context?)`): the org-level methods, each
 * taking its input without `orgId`. An input naming another org throws `TENANT_MISMATCH`
 * (details `{expected, got}`) and writes nothing. The cross-tenant methods (`createOrg`,
 * `listOrgs`, `getOrgBySlug`, `checkRollups`, `purgeExpired`) are not on it.
 */
export declare class OrgScope {
  readonly orgId: string;
  readonly context: ControlPlaneRequestContext;
  getOrg(): ControlPlaneOrg | null;
  recordUsageBatch(events: Omit<ControlPlaneUsageInput, "orgId">[], options?: { returning?: "events" }): ControlPlaneUsageEvent[];
  recordUsageBatch(events: Omit<ControlPlaneUsageInput, "orgId">[], options: { returning: "ids" }): { count: number; ids: number[] };
  createTeam: Scoped<ControlPlaneStore["createTeam"]>;
  createProject: Scoped<ControlPlaneStore["createProject"]>;
  upsertBillingAccount: Scoped<ControlPlaneStore["upsertBillingAccount"]>;
  upsertIdentityProvider: Scoped<ControlPlaneStore["upsertIdentityProvider"]>;
  listIdentityProviders: Scoped<ControlPlaneStore["listIdentityProviders"]>;
  recordUsage: Scoped<ControlPlaneStore["recordUsage"]>;
  consumeUsage: Scoped<ControlPlaneStore["consumeUsage"]>;
  summarizeUsage: Scoped<ControlPlaneStore["summarizeUsage"]>;
  setUsageLimit: Scoped<ControlPlaneStore["setUsageLimit"]>;
  checkUsageLimit: Scoped<ControlPlaneStore["checkUsageLimit"]>;
  putSecretRef: Scoped<ControlPlaneStore["putSecretRef"]>;
  listSecretRefs: Scoped<ControlPlaneStore["listSecretRefs"]>;
  recordAuditEvent: Scoped<ControlPlaneStore["recordAuditEvent"]>;
  exportOrgAudit: Scoped<ControlPlaneStore["exportOrgAudit"]>;
  exportOrgAuditAsync: Scoped<ControlPlaneStore["exportOrgAuditAsync"]>;
  exportOrgAuditToFile: Scoped<ControlPlaneStore["exportOrgAuditToFile"]>;
  suspendOrg: Scoped<ControlPlaneStore["suspendOrg"]>;
  unsuspendOrg: Scoped<ControlPlaneStore["unsuspendOrg"]>;
  deleteOrg: Scoped<ControlPlaneStore["deleteOrg"]>;
  listTeams: Scoped<ControlPlaneStore["listTeams"]>;
  getTeam: Scoped<ControlPlaneStore["getTeam"]>;
  listTeamMembers: Scoped<ControlPlaneStore["listTeamMembers"]>;
  listProjects: Scoped<ControlPlaneStore["listProjects"]>;
  getProject: Scoped<ControlPlaneStore["getProject"]>;
  listProjectTeams: Scoped<ControlPlaneStore["listProjectTeams"]>;
  getBillingAccount: Scoped<ControlPlaneStore["getBillingAccount"]>;
  listUsageLimits: Scoped<ControlPlaneStore["listUsageLimits"]>;
  listProjectAccess: Scoped<ControlPlaneStore["listProjectAccess"]>;
  getProjectAccess: Scoped<ControlPlaneStore["getProjectAccess"]>;
  setOrgQuota: Scoped<ControlPlaneStore["setOrgQuota"]>;
  getOrgQuota: Scoped<ControlPlaneStore["getOrgQuota"]>;
  queryAuditLog: Scoped<ControlPlaneStore["queryAuditLog"]>;
  explainAuditQuery: Scoped<ControlPlaneStore["explainAuditQuery"]>;
  verifyAuditChain: Scoped<ControlPlaneStore["verifyAuditChain"]>;
  verifyAuditChainAsync: Scoped<ControlPlaneStore["verifyAuditChainAsync"]>;
  addTeamMember: Scoped<ControlPlaneStore["addTeamMember"]>;
  addProjectTeam: Scoped<ControlPlaneStore["addProjectTeam"]>;
  removeTeamMember: Scoped<ControlPlaneStore["removeTeamMember"]>;
  removeProjectTeam: Scoped<ControlPlaneStore["removeProjectTeam"]>;
  deleteTeam: Scoped<ControlPlaneStore["deleteTeam"]>;
  deleteProject: Scoped<ControlPlaneStore["deleteProject"]>;
  deleteIdentityProvider: Scoped<ControlPlaneStore["deleteIdentityProvider"]>;
  deleteUsageLimit: Scoped<ControlPlaneStore["deleteUsageLimit"]>;
  deleteSecretRef: Scoped<ControlPlaneStore["deleteSecretRef"]>;
  setRetention: Scoped<ControlPlaneStore["setRetention"]>;
  getRetention: Scoped<ControlPlaneStore["getRetention"]>;
}

export declare class ControlPlaneStore {
  /**
   * Creates or upgrades the schema, on:
   * - a `Database` of this package: the store shares its connection;
   * - a file path, or `":memory:"`: a connection of the store's own (a file is opened in
   *   WAL mode);
   * - another binding's handle (bun:sqlite, better-sqlite3, node:sqlite, or any object with
   *   `exec` and `prepare`/`query`): every statement runs through that handle, on its
   *   connection (the store never opens its file), and a store write inside the owner's
   *   transaction joins it as a savepoint. See `SqliteHandle`.
   *
   * Anything else is `INVALID_INPUT` (`details.field: "sqlite"`).
   */
  constructor(sqlite: ControlPlaneSqlite);
  /**
   * On a path: closes the store's connection, and later calls are `CLOSED`. On another
   * binding's handle: lets go of it without closing it (its owner closes it), and later
   * calls are `CLOSED`. On a `Database` of this package: nothing; the store goes on using
   * the connection until the `Database` is closed. Closing twice is harmless.
   */
  close(): void;
  /**
   * A handle scoped to one org: the org-level methods without `orgId`; `context.actorId`
   * is the default actor of every audited write made through it.
   */
  forOrg(orgId: string, context?: ControlPlaneRequestContext): OrgScope;

  createOrg(input: { orgId?: string; slug: string; name: string; createdAtMs?: number }): ControlPlaneOrg;
  getOrg(orgId: string): ControlPlaneOrg | null;
  createTeam(input: { orgId: string; teamId?: string; slug: string; name: string; createdAtMs?: number }): ControlPlaneTeam;
  addTeamMember(input: { orgId: string; teamId: string; userId: string; role?: string; createdAtMs?: number }): void;
  createProject(input: {
    orgId: string;
    projectId?: string;
    slug: string;
    name: string;
    metadata?: Record<string, unknown>;
    createdAtMs?: number;
  }): ControlPlaneProject;
  addProjectTeam(input: { orgId: string; projectId: string; teamId: string; role?: string; createdAtMs?: number }): void;
  upsertBillingAccount(input: {
    orgId: string;
    plan: string;
    billingCustomerId?: string | null;
    status?: string;
    updatedAtMs?: number;
  }): ControlPlaneBillingAccount;
  upsertIdentityProvider(input: {
    orgId: string;
    providerId?: string;
    type: "saml" | "oidc" | (string & {});
    issuer: string;
    ssoUrl?: string | null;
    certificateRef?: string | null;
    status?: string;
    metadata?: Record<string, unknown>;
    createdAtMs?: number;
    updatedAtMs?: number;
  }): ControlPlaneIdentityProvider;
  listIdentityProviders(input: { orgId: string; status?: string }): ControlPlaneIdentityProvider[];
  recordUsage(input: ControlPlaneUsageInput): ControlPlaneUsageEvent;
  /** Records every event or none, in one transaction; errors name the event's index. */
  recordUsageBatch(events: ControlPlaneUsageInput[], options?: { returning?: "events" }): ControlPlaneUsageEvent[];
  recordUsageBatch(events: ControlPlaneUsageInput[], options: { returning: "ids" }): { count: number; ids: number[] };
  /**
   * Checks every limit that applies (the project's and the org-wide ones, every period) and
   * records the event only if it fits them all, atomically.
   */
  consumeUsage(input: ControlPlaneUsageInput): ControlPlaneConsumption;
  summarizeUsage(input: { orgId: string; sinceMs?: number; untilMs?: number }): ControlPlaneUsageSummary[];
  summarizeUsage(input: ControlPlaneUsageSummaryInput): ControlPlaneUsageGroup[];
  setUsageLimit(input: {
    orgId: string;
    projectId?: string | null;
    metric: string;
    unit?: string;
    period?: ControlPlaneUsagePeriod | (string & {});
    limitQuantity: number;
    updatedAtMs?: number;
  }): ControlPlaneUsageLimit;
  checkUsageLimit(input: {
    orgId: string;
    projectId?: string | null;
    metric: string;
    unit?: string;
    period?: ControlPlaneUsagePeriod | (string & {});
    sinceMs?: number;
    untilMs?: number;
  }): ControlPlaneUsageLimitCheck | null;
  putSecretRef(input: {
    orgId: string;
    projectId?: string | null;
    name: string;
    provider: string;
    ref: string;
    createdBy?: string | null;
    createdAtMs?: number;
    rotatedAtMs?: number | null;
  }): ControlPlaneSecretRef;
  listSecretRefs(input: { orgId: string; projectId?: string | null }): ControlPlaneSecretRef[];
  recordAuditEvent(input: {
    orgId: string;
    projectId?: string | null;
    actorId?: string | null;
    action: string;
    targetType: string;
    targetId?: string | null;
    occurredAtMs?: number;
    metadata?: Record<string, unknown>;
  } & ControlPlaneRequestOrigin): ControlPlaneAuditEvent;
  exportOrgAudit(input: { orgId: string; sinceMs?: number; untilMs?: number; exportedAtMs?: number }): ControlPlaneExport;

  // Tenant lifecycle
  suspendOrg(input: { orgId: string; reason: string } & ActorInput): ControlPlaneOrg;
  unsuspendOrg(input: { orgId: string } & ActorInput): ControlPlaneOrg;
  deleteOrg(input: { orgId: string; mode?: "soft" | "hard" } & ActorInput): ControlPlaneOrgDeletion;

  // Reads
  listOrgs(input?: { status?: ControlPlaneOrgStatus } & ControlPlanePageInput): ControlPlanePage<ControlPlaneOrg>;
  getOrgBySlug(slug: string): ControlPlaneOrg | null;
  listTeams(input: { orgId: string } & ControlPlanePageInput): ControlPlanePage<ControlPlaneTeam>;
  getTeam(input: { orgId: string; teamId: string }): ControlPlaneTeam | null;
  listTeamMembers(input: { orgId: string; teamId: string } & ControlPlanePageInput): ControlPlanePage<ControlPlaneTeamMember>;
  listProjects(input: { orgId: string } & ControlPlanePageInput): ControlPlanePage<ControlPlaneProject>;
  getProject(input: { orgId: string; projectId: string }): ControlPlaneProject | null;
  listProjectTeams(input: { orgId: string; projectId: string } & ControlPlanePageInput): ControlPlanePage<ControlPlaneProjectTeam>;
  getBillingAccount(input: { orgId: string }): ControlPlaneBillingAccount | null;
  listUsageLimits(input: { orgId: string; projectId?: string | null } & ControlPlanePageInput): ControlPlanePage<ControlPlaneUsageLimit>;

  // Removal (NOT_FOUND when absent)
  removeTeamMember(input: { orgId: string; teamId: string; userId: string } & ActorInput): void;
  removeProjectTeam(input: { orgId: string; projectId: string; teamId: string } & ActorInput): void;
  deleteTeam(input: { orgId: string; teamId: string } & ActorInput): void;
  deleteProject(input: { orgId: string; projectId: string } & ActorInput): void;
  deleteIdentityProvider(input: { orgId: string; providerId: string } & ActorInput): void;
  deleteUsageLimit(input: { orgId: string; projectId?: string | null; metric: string; unit?: string; period?: ControlPlaneUsagePeriod } & ActorInput): void;
  deleteSecretRef(input: { orgId: string; projectId?: string | null; name: string } & ActorInput): void;

  // Access resolution
  listProjectAccess(input: { orgId: string; userId: string }): ControlPlaneProjectAccess[];
  getProjectAccess(input: { orgId: string; projectId: string; userId: string }): ControlPlaneProjectAccess;

  // Resource quotas (a number, or null for no limit)
  setOrgQuota(input: { orgId: string; actorId?: string | null; updatedAtMs?: number } & Partial<ControlPlaneQuotaLimits>): ControlPlaneOrgQuota;
  getOrgQuota(input: { orgId: string }): ControlPlaneOrgQuota;

  // Audit queries
  queryAuditLog(input: ControlPlaneAuditQuery): ControlPlanePage<ControlPlaneAuditEvent>;
  /** SQLite's query plan for the same query: which index serves it. */
  explainAuditQuery(input: ControlPlaneAuditQuery): string[];
  /**
   * `exportOrgAudit` as a promise: run off the JS thread on a connection of the store's own
   * (a path or a `Database`; on a file, through a connection opened for the work). On
   * another binding's handle it runs on the JS thread (the handle cannot be used from
   * another), before the promise is returned.
   */
  exportOrgAuditAsync(input: { orgId: string; sinceMs?: number; untilMs?: number; exportedAtMs?: number }): Promise<ControlPlaneExport>;
  /**
   * Streams the export to `path` in constant memory, atomically (a temporary file beside
   * it, synced, renamed into place; readable by its owner only). `json`: the
   * `exportOrgAudit` object; `ndjson`: one record a line with a `type`; `csv`: the audit
   * events only. Off the JS thread as `exportOrgAuditAsync` is (on another binding's
   * handle, on the JS thread).
   */
  exportOrgAuditToFile(input: {
    orgId: string;
    path: string;
    format: "json" | "ndjson" | "csv";
    sinceMs?: number;
    untilMs?: number;
    exportedAtMs?: number;
  }): Promise<ControlPlaneFileExport>;
  /** Walks the org's audit hash chain; `firstBadId` names the first event that fails. */
  verifyAuditChain(input: { orgId: string }): ControlPlaneChainReport;
  /**
   * Compares the usage rollups with the raw events (a pass over every event) and rebuilds
   * them when they disagree, unless `repair` is false. Opening a file trusts them.
   */
  checkRollups(input?: { repair?: boolean }): { consistent: boolean; repaired: boolean };
  /**
   * How long the org's events are kept: audit events `auditDays` days after they occurred,
   * usage events `usageDays` days (from the start of that day; their sums stay in the
   * rollups, so every window's total stays what it was), or for ever (`null`).
   */
  setRetention(input: { orgId: string; auditDays?: number | null; usageDays?: number | null; updatedAtMs?: number } & ActorInput): ControlPlaneRetention;
  getRetention(input: { orgId: string }): ControlPlaneRetention;
  /**
   * Removes, in short batches, the audit events past each org's retention (their hashes
   * kept, so chains still verify), the usage events past it (their sums kept in the
   * rollups), and the soft-deleted orgs past their grace period
   * (default 30 days), as a hard delete does. `dryRun` only counts; `maxBatches` stops
   * early (`done: false`), to report progress between calls.
   */
  purgeExpired(input?: { nowMs?: number; dryRun?: boolean; deletedOrgGraceDays?: number; batchSize?: number; maxBatches?: number }): ControlPlanePurge;
  /**
   * `verifyAuditChain` as a promise, off the JS thread as `exportOrgAuditAsync` is (on
   * another binding's handle, on the JS thread).
   */
  verifyAuditChainAsync(input: { orgId: string }): Promise<ControlPlaneChainReport>;
}
