// Compiled with `tsc --noEmit` by `npm test`: a TypeScript caller of the store type-checks,
// and each wrong call below is an error (an unused @ts-expect-error fails the build). The
// program has `strict`, `noUncheckedIndexedAccess`, and both @types/node and bun-types
// (tsconfig.json), as a gateway's project may. It is never run.
import { Database as BunDatabase } from "bun:sqlite";
import BetterSqlite3 from "better-sqlite3";
import { DatabaseSync } from "node:sqlite";
import {
  ControlPlaneError,
  ControlPlaneStore,
  Database,
  ensureControlPlaneTables,
  type ControlPlaneErrorCode,
  type ControlPlaneSqlite,
  type ForeignSqliteHandle,
  type SqliteBindValue,
  type SqliteHandle,
  type ControlPlaneAuditEvent,
  type ControlPlaneExport,
  type ControlPlaneOrg,
  type ControlPlaneSecretRef,
  type ControlPlaneUsageEvent,
  type ControlPlaneUsageLimitCheck,
  type ControlPlaneUsageSummary,
} from "../../index.js";

const db = new Database(":memory:");
ensureControlPlaneTables(db);
const store = new ControlPlaneStore(db);
new ControlPlaneStore("control-plane.db");
new ControlPlaneStore(":memory:");

// Another binding's handle: every statement runs through it (the store never opens its file).
const bun = new BunDatabase("gateway.db");
new ControlPlaneStore(bun);
ensureControlPlaneTables(bun);
const better = new BetterSqlite3("gateway.db");
new ControlPlaneStore(better);
ensureControlPlaneTables(better);
new ControlPlaneStore(new DatabaseSync("gateway.db"));
// The minimal handle: exec, and query or prepare returning a statement with run and all.
new ControlPlaneStore({
  exec: (sql) => better.exec(sql),
  query: (sql) => {
    const statement = better.prepare(sql);
    return {
      run: (...params) => statement.run(...params),
      get: (...params) => statement.get(...params) ?? null,
      all: (...params) => statement.all(...params),
    };
  },
});
const viaPrepare = {
  exec(sql: string): void {
    bun.exec(sql);
  },
  prepare(sql: string) {
    const statement = bun.prepare(sql);
    return { run: (...params: SqliteBindValue[]) => statement.run(...params), all: () => statement.all() };
  },
};
ensureControlPlaneTables(viaPrepare);
const handles: SqliteHandle[] = [bun, better, viaPrepare];
const sqlite: ControlPlaneSqlite[] = [db, "gateway.db", ...handles];
// The old name still compiles (deprecated).
const legacy: ForeignSqliteHandle = bun;
// @ts-expect-error an object is no handle
new ControlPlaneStore({});
// @ts-expect-error exec alone is no handle: query or prepare is needed too
new ControlPlaneStore({ exec: (sql: string) => bun.exec(sql) });
// @ts-expect-error query alone is no handle: exec is needed too
new ControlPlaneStore({ query: (sql: string) => bun.query(sql) });
// @ts-expect-error query must return a statement with run and all
new ControlPlaneStore({ exec: (sql: string) => bun.exec(sql), query: (sql: string) => ({ get: () => null }) });
// @ts-expect-error a handle that names a file is not opened by the store: no exec, no query
new ControlPlaneStore({ filename: "gateway.db" });
// @ts-expect-error nor better-sqlite3's shape of name
ensureControlPlaneTables({ name: "gateway.db", memory: false });

const org: ControlPlaneOrg = store.createOrg({ slug: "acme", name: "Acme" });
const maybe: ControlPlaneOrg | null = store.getOrg(org.orgId);
const team = store.createTeam({ orgId: org.orgId, slug: "core", name: "Core" });
const nothing: void = store.addTeamMember({ orgId: org.orgId, teamId: team.teamId, userId: "u1", role: "admin" });
const project = store.createProject({ orgId: org.orgId, slug: "web", name: "Web", metadata: { tier: 1 } });
const tier: unknown = project.metadata.tier;
store.addProjectTeam({ orgId: org.orgId, projectId: project.projectId, teamId: team.teamId });
const billing = store.upsertBillingAccount({ orgId: org.orgId, plan: "pro", billingCustomerId: null });
const customer: string | null = billing.billingCustomerId;
const idp = store.upsertIdentityProvider({ orgId: org.orgId, type: "saml", issuer: "https://idp", ssoUrl: null });
const sso: string | null = idp.ssoUrl;
const idps = store.listIdentityProviders({ orgId: org.orgId, status: "active" });
const event: ControlPlaneUsageEvent = store.recordUsage({ orgId: org.orgId, projectId: null, metric: "tokens", quantity: 1 });
const run: string | null = event.runId;
const summary = store.summarizeUsage({ orgId: org.orgId, sinceMs: 0 });
const total: number | undefined = summary[0]?.quantity;
store.setUsageLimit({ orgId: org.orgId, metric: "tokens", period: "daily", limitQuantity: 10 });
const check: ControlPlaneUsageLimitCheck | null = store.checkUsageLimit({ orgId: org.orgId, metric: "tokens", period: "daily" });
if (check) {
  const exceeded: boolean = check.exceeded;
  const remaining: number = check.remainingQuantity;
}
const secret: ControlPlaneSecretRef = store.putSecretRef({ orgId: org.orgId, name: "K", provider: "vault", ref: "vault://k", rotatedAtMs: null });
const rotated: number | null = secret.rotatedAtMs;
const secrets: ControlPlaneSecretRef[] = store.listSecretRefs({ orgId: org.orgId, projectId: null });
const audit: ControlPlaneAuditEvent = store.recordAuditEvent({ orgId: org.orgId, action: "a", targetType: "t", ipAddress: "203.0.113.7", requestId: "r" });
const auditIp: string | undefined = audit.ipAddress;
const exported: ControlPlaneExport = store.exportOrgAudit({ orgId: org.orgId });
const billingOrNull: ControlPlaneExport["billing"] = exported.billing;
const row = db.query<{ n: number }>("SELECT COUNT(*) AS n FROM _smithers_cp_orgs").get();
const n: number | undefined = row?.n;

const keyed = store.recordUsage({ orgId: org.orgId, metric: "tokens", quantity: 1, idempotencyKey: "k-1" });
const dup: boolean | undefined = keyed.duplicate;
const batch: ControlPlaneUsageEvent[] = store.recordUsageBatch([{ orgId: org.orgId, metric: "m", quantity: 1 }]);
const ids: number[] = store.recordUsageBatch([{ orgId: org.orgId, metric: "m", quantity: 1 }], { returning: "ids" }).ids;
const consumed = store.consumeUsage({ orgId: org.orgId, metric: "m", quantity: 1 });
const consumedEvent: ControlPlaneUsageEvent | null = consumed.event;
const fits: boolean = consumed.checks.every((c) => c.allowed && c.usedQuantity >= 0);
// Credits: grants, balances, admission against the balance, corrections.
const grant = store.grantCredits({ orgId: org.orgId, metric: "tokens", amount: 100, recurrence: { period: "monthly" }, rollover: { maxAmount: 20 } });
const grantEnds: number | null = grant.expiresAtMs;
store.grantCredits({ orgId: org.orgId, projectId: "web", metric: "tokens", amount: 5, recurrence: { period: 3_600_000, anchorMs: 0 } });
const balance = store.getBalance({ orgId: org.orgId, projectId: "web", metric: "tokens" });
const left: number = balance.balance + balance.overage + (balance.grants[0]?.remaining ?? 0);
const admitted = store.consumeUsage({ orgId: org.orgId, metric: "tokens", quantity: 1 }, { requireBalance: true });
const after: number | undefined = admitted.balance?.after;
const grantIds: string[] = store.listGrants({ orgId: org.orgId, activeAtMs: 0 }).items.map((g) => g.grantId);
store.voidGrant({ orgId: org.orgId, grantId: grant.grantId, reason: "refund" });
const fixed = store.amendUsage({ orgId: org.orgId, eventId: keyed.id, quantity: 0.5, reason: "recount" });
const kind: "void" | "amend" = fixed.kind;
store.voidUsage({ orgId: org.orgId, idempotencyKey: "k-1", reason: "refund" });
// @ts-expect-error a recurrence's period is a name or a number of milliseconds
store.grantCredits({ orgId: org.orgId, metric: "tokens", amount: 1, recurrence: { period: "hourly" } });
// @ts-expect-error amendUsage needs the new quantity
store.amendUsage({ orgId: org.orgId, eventId: 1, reason: "x" });
const plain: ControlPlaneUsageSummary[] = store.summarizeUsage({ orgId: org.orgId });
const grouped = store.summarizeUsage({ orgId: org.orgId, groupBy: ["projectId"], bucket: "day" });
const bucketStart: number | undefined = grouped[0]?.bucketStartMs;

const suspended = store.suspendOrg({ orgId: org.orgId, reason: "billing" });
const reason: string | null = suspended.suspendReason;
const deletion = store.deleteOrg({ orgId: org.orgId, mode: "hard" });
if (deletion.mode === "hard") {
  const removed: number | undefined = deletion.deleted["_smithers_cp_projects"];
}
const orgPage = store.listOrgs({ status: "active", limit: 10 });
const next: string | null = orgPage.nextCursor;
const members = store.listTeamMembers({ orgId: org.orgId, teamId: team.teamId, cursor: next });
const memberRole: string | undefined = members.items[0]?.role;
store.removeTeamMember({ orgId: org.orgId, teamId: team.teamId, userId: "u1", actorId: "admin" });
const access = store.getProjectAccess({ orgId: org.orgId, projectId: project.projectId, userId: "u1" });
const roles: string[] = access.roles;
const quota = store.setOrgQuota({ orgId: org.orgId, maxProjects: 10, maxTeams: null });
const maxProjects: number | null = quota.limits.maxProjects;
const audits = store.queryAuditLog({ orgId: org.orgId, actorId: "admin", order: "desc", requestId: "r" });
const firstAudit: ControlPlaneAuditEvent | undefined = audits.items[0];

// The rest of the surface, each method once.
const bySlug: ControlPlaneOrg | null = store.getOrgBySlug("acme");
const active: ControlPlaneOrg = store.unsuspendOrg({ orgId: org.orgId });
const teams = store.listTeams({ orgId: org.orgId, limit: 5 });
const oneTeam = store.getTeam({ orgId: org.orgId, teamId: team.teamId });
const projects = store.listProjects({ orgId: org.orgId });
const oneProject = store.getProject({ orgId: org.orgId, projectId: project.projectId });
const grants = store.listProjectTeams({ orgId: org.orgId, projectId: project.projectId });
const account = store.getBillingAccount({ orgId: org.orgId });
const limits = store.listUsageLimits({ orgId: org.orgId });
const accessList = store.listProjectAccess({ orgId: org.orgId, userId: "u1" });
const quotaNow = store.getOrgQuota({ orgId: org.orgId });
const plan: string[] = store.explainAuditQuery({ orgId: org.orgId, action: "a" });
const chain = store.verifyAuditChain({ orgId: org.orgId });
const chainOk: boolean = chain.ok;
const rollupsOk: boolean = store.checkRollups({ repair: false }).consistent;
const schemaVersion: number = store.stats().schemaVersion;
const tableRows: number | undefined = store.stats().tables[0]?.rows;
const integrity: string = store.checkIntegrity().integrity;
const kept: number | null = store.setRetention({ orgId: org.orgId, auditDays: 90 }).auditDays;
store.getRetention({ orgId: org.orgId });
const purged: number | undefined = store.purgeExpired({ dryRun: true }).deleted["_smithers_cp_audit_events"];
const chainLater: Promise<{ ok: boolean }> = store.verifyAuditChainAsync({ orgId: org.orgId });
store.removeProjectTeam({ orgId: org.orgId, projectId: project.projectId, teamId: team.teamId });
store.deleteTeam({ orgId: org.orgId, teamId: team.teamId });
store.deleteProject({ orgId: org.orgId, projectId: project.projectId });
store.deleteIdentityProvider({ orgId: org.orgId, providerId: idp.providerId });
store.deleteUsageLimit({ orgId: org.orgId, metric: "tokens", period: "daily" });
store.deleteSecretRef({ orgId: org.orgId, name: "K" });
const later: Promise<ControlPlaneExport> = store.exportOrgAuditAsync({ orgId: org.orgId });
const toFile = store.exportOrgAuditToFile({ orgId: org.orgId, path: "audit.ndjson", format: "ndjson" });

// The org-scoped handle: every method once, inputs without orgId.
const scope = store.forOrg("acme", { actorId: "admin", ipAddress: "203.0.113.7", requestId: "req-1" });
const scopedOrgId: string = scope.orgId;
const scopedActor: string | undefined = scope.context.actorId;
const scopedOrg: ControlPlaneOrg | null = scope.getOrg();
const scopedTeam = scope.createTeam({ slug: "core", name: "Core" });
const scopedTeamId: string = scopedTeam.teamId;
const scopedProject = scope.createProject({ slug: "web", name: "Web" });
scope.upsertBillingAccount({ plan: "pro" });
scope.upsertIdentityProvider({ type: "saml", issuer: "https://idp" });
scope.listIdentityProviders({});
const scopedEvent: ControlPlaneUsageEvent = scope.recordUsage({ metric: "tokens", quantity: 1 });
const scopedIds: number[] = scope.recordUsageBatch([{ metric: "tokens", quantity: 1 }], { returning: "ids" }).ids;
scope.consumeUsage({ metric: "tokens", quantity: 1 });
scope.consumeUsage({ metric: "tokens", quantity: 1 }, { requireBalance: true });
scope.grantCredits({ metric: "tokens", amount: 10 });
scope.getBalance({ metric: "tokens" });
scope.listGrants({});
scope.voidGrant({ grantId: "g", reason: "r" });
scope.voidUsage({ eventId: 1, reason: "r" });
scope.amendUsage({ eventId: 1, quantity: 2, reason: "r" });
scope.summarizeUsage({});
scope.setUsageLimit({ metric: "tokens", limitQuantity: 10 });
scope.checkUsageLimit({ metric: "tokens" });
scope.putSecretRef({ name: "K", provider: "vault", ref: "vault://k" });
scope.listSecretRefs({});
scope.recordAuditEvent({ action: "a", targetType: "t" });
const scopedExport: ControlPlaneExport = scope.exportOrgAudit({});
const scopedLater: Promise<ControlPlaneExport> = scope.exportOrgAuditAsync({});
scope.exportOrgAuditToFile({ path: "audit.ndjson", format: "ndjson" });
scope.suspendOrg({ reason: "review" });
scope.unsuspendOrg({});
scope.listTeams({});
scope.getTeam({ teamId: scopedTeamId });
scope.listTeamMembers({ teamId: scopedTeamId });
scope.listProjects({});
scope.getProject({ projectId: scopedProject.projectId });
scope.listProjectTeams({ projectId: scopedProject.projectId });
scope.getBillingAccount({});
scope.listUsageLimits({});
scope.listProjectAccess({ userId: "u1" });
scope.getProjectAccess({ projectId: scopedProject.projectId, userId: "u1" });
scope.setOrgQuota({ maxProjects: 5 });
scope.getOrgQuota({});
scope.queryAuditLog({ order: "desc" });
scope.explainAuditQuery({ action: "a" });
scope.verifyAuditChain({});
scope.verifyAuditChainAsync({});
scope.addTeamMember({ teamId: scopedTeamId, userId: "u1" });
scope.addProjectTeam({ projectId: scopedProject.projectId, teamId: scopedTeamId });
scope.removeTeamMember({ teamId: scopedTeamId, userId: "u1" });
scope.removeProjectTeam({ projectId: scopedProject.projectId, teamId: scopedTeamId });
scope.deleteTeam({ teamId: scopedTeamId });
scope.deleteProject({ projectId: scopedProject.projectId });
scope.deleteIdentityProvider({ providerId: "okta" });
scope.deleteUsageLimit({ metric: "tokens" });
scope.deleteSecretRef({ name: "K" });
scope.setRetention({ auditDays: 30 });
scope.getRetention({});
// @ts-expect-error purging reaches across tenants: not on a scoped handle
scope.purgeExpired({});
scope.deleteOrg({ mode: "soft" });
// @ts-expect-error listOrgs reaches across tenants: not on a scoped handle
scope.listOrgs({});
// @ts-expect-error createOrg is not on a scoped handle
scope.createOrg({ slug: "x", name: "X" });
// @ts-expect-error getOrgBySlug is not on a scoped handle
scope.getOrgBySlug("acme");
// @ts-expect-error a quantity is still a number
scope.recordUsage({ metric: "m", quantity: "1" });

store.close();

try {
  store.getOrg("x");
} catch (error) {
  if (error instanceof ControlPlaneError) {
    const code: string = error.code;
    const details: Record<string, unknown> | undefined = error.details;
    const docsUrl: string = error.docsUrl;
    const cause: unknown = error.cause;
    const message: string = error.message;
    const summaryText: string = error.summary;
    const name: "ControlPlaneError" = error.name;
    if (error.code === "DUPLICATE_ID") retryWithAnotherSlug();
    // @ts-expect-error a misspelt code is no code
    if (error.code === "DUPLICATE_IDD") retryWithAnotherSlug();
  }
}
function retryWithAnotherSlug(): void {}

// `code` is a closed union: each code has a case, and a misspelt one does not compile.
function advice(error: ControlPlaneError): string {
  switch (error.code) {
    case "INVALID_INPUT":
    case "DUPLICATE_ID":
    case "IDEMPOTENCY_CONFLICT":
    case "ORG_SUSPENDED":
    case "ORG_DELETED":
    case "QUOTA_EXCEEDED":
    case "SECRET_VALUE_REJECTED":
    case "TENANT_MISMATCH":
      return "fix the request";
    case "NOT_FOUND":
      return "already gone";
    case "BUSY":
    case "UNAVAILABLE":
      return "retry";
    case "STORAGE_ERROR":
    case "CLOSED":
    case "INTERNAL":
      return "look at the database";
    // @ts-expect-error a misspelt code does not compile
    case "DUPLICATE_IDD":
      return "typo";
    // @ts-expect-error a code this program did not add (augmented/codes.ts adds one in its own program)
    case "NEW_CODE":
      return "later";
    default: {
      // Every code has a case above: nothing is left.
      const unreachable: never = error.code;
      return unreachable;
    }
  }
}
const made = new ControlPlaneError("BUSY", "Busy.", { retry: true }, { cause: new Error("locked") });
const madeCode: ControlPlaneErrorCode = made.code;
// @ts-expect-error a misspelt code does not construct either
new ControlPlaneError("BUSSY", "Busy.");

// @ts-expect-error slug is required
store.createOrg({ name: "Acme" });
// @ts-expect-error quantity is a number
store.recordUsage({ orgId: "o", metric: "m", quantity: "1" });
// @ts-expect-error getOrg takes an id, not an object
store.getOrg({ orgId: "o" });
// @ts-expect-error addTeamMember returns nothing
const member: string = store.addTeamMember({ orgId: "o", teamId: "t", userId: "u" });
// @ts-expect-error ssoUrl may be null: not assignable to string
const notNull: string = idp.ssoUrl;
// @ts-expect-error metadata is an object, not an array
store.createProject({ orgId: "o", slug: "s", name: "n", metadata: [1, 2] });
// @ts-expect-error checkUsageLimit may return null
const used: number = store.checkUsageLimit({ orgId: "o", metric: "m" }).usedQuantity;
// @ts-expect-error a number is no database
new ControlPlaneStore(42);
// @ts-expect-error ids, not events, when asked for ids
const notEvents: ControlPlaneUsageEvent[] = store.recordUsageBatch([], { returning: "ids" });
// @ts-expect-error no such org status
store.listOrgs({ status: "archived" });
// @ts-expect-error a suspension needs a reason
store.suspendOrg({ orgId: "o" });
// @ts-expect-error quota limits are numbers or null
store.setOrgQuota({ orgId: "o", maxTeams: "5" });
// @ts-expect-error no such bucket
store.summarizeUsage({ orgId: "o", bucket: "week" });

export { handles, sqlite, legacy, advice, madeCode, kept, purged, auditIp, scopedOrgId, scopedActor, scopedOrg, scopedEvent, scopedIds, scopedExport, scopedLater, rollupsOk, chainLater, bySlug, active, teams, oneTeam, projects, oneProject, grants, account, limits, accessList, quotaNow, plan, chainOk, later, toFile, reason, memberRole, roles, maxProjects, firstAudit, keyed, dup, batch, ids, consumedEvent, fits, plain, bucketStart, notEvents, maybe, nothing, tier, customer, sso, idps, run, total, rotated, secrets, audit, billingOrNull, n, member, notNull, used };

// The async store: the sync store's methods, each returning a Promise of the same result.
async function asyncCaller(): Promise<void> {
  const pg = await ControlPlaneStore.connect("postgres://app@db/control", { poolSize: 4, statementTimeoutMs: 5_000 });
  const org: ControlPlaneOrg = await pg.createOrg({ slug: "acme", name: "Acme" });
  const found: ControlPlaneOrg | null = await pg.getOrg(org.orgId);
  const event: ControlPlaneUsageEvent = await pg.recordUsage({ orgId: org.orgId, metric: "tok", quantity: 1 });
  const scoped = pg.forOrg(org.orgId, { actorId: "ann" });
  const orgId: string = scoped.orgId;
  const consumed = await scoped.consumeUsage({ metric: "tok", quantity: 1 });
  const allowed: boolean = consumed.allowed;
  const nothing: void = await scoped.addTeamMember({ teamId: "t", userId: "u" });
  const dialect: "postgres" | "sqlite" | null = pg.dialect;
  await pg.close();
  // @ts-expect-error a promise, not the org
  const notAwaited: ControlPlaneOrg = pg.createOrg({ slug: "b", name: "B" });
  // @ts-expect-error the scoped handle has no createOrg
  await scoped.createOrg({ slug: "c", name: "C" });
  // @ts-expect-error options are typed
  await ControlPlaneStore.connect("sqlite::memory:", { poolSize: "4" });
  void [found, event, orgId, allowed, nothing, dialect, notAwaited];
}
void asyncCaller;
