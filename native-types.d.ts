// Generated from the core's request and result types by `UPDATE_TYPES=1 cargo test -p control-plane-core typescript`: do not edit.

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
