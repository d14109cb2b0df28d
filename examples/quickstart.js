"use strict";
// The documented example, end to end, on an embedded SQLite file (./quickstart.db):
// an org and a project, usage with a monthly quota, a SAML provider, a secret reference,
// and the org's audit export.

const fs = require("node:fs");
const path = require("node:path");
const { ControlPlaneStore, ControlPlaneError } = require("..");

const file = path.resolve(process.argv[2] ?? "quickstart.db");
for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(file + suffix, { force: true });

const store = new ControlPlaneStore(file);
const line = (label, value) => console.log(`${label.padEnd(22)} ${value}`);

const org = store.createOrg({ orgId: "org_acme", slug: "acme", name: "Acme Robotics" });
const project = store.createProject({
  orgId: org.orgId,
  projectId: "proj_agents",
  slug: "agents",
  name: "Agent fleet",
  metadata: { region: "eu-west" },
});
line("org", `${org.name} (${org.orgId}, slug ${org.slug})`);
line("project", `${project.name} (${project.projectId}) ${JSON.stringify(project.metadata)}`);

store.setUsageLimit({ orgId: org.orgId, projectId: project.projectId, metric: "llm.tokens", unit: "token", period: "monthly", limitQuantity: 50_000 });
for (const [runId, tokens] of [["run_1", 12_000], ["run_2", 18_500], ["run_3", 9_250]]) {
  store.recordUsage({ orgId: org.orgId, projectId: project.projectId, runId, metric: "llm.tokens", unit: "token", quantity: tokens, metadata: { model: "large" } });
}
const check = store.checkUsageLimit({ orgId: org.orgId, projectId: project.projectId, metric: "llm.tokens", unit: "token" });
line("monthly token quota", `${check.usedQuantity} used of ${check.limitQuantity}, ${check.remainingQuantity} left, exceeded: ${check.exceeded}`);

const idp = store.upsertIdentityProvider({
  orgId: org.orgId,
  providerId: "okta",
  type: "saml",
  issuer: "https://acme.okta.example/saml",
  ssoUrl: "https://acme.okta.example/sso",
  certificateRef: "vault://idp/okta-signing-cert",
});
line("identity provider", `${idp.providerId}: ${idp.type} ${idp.issuer} (${idp.status})`);

const secret = store.putSecretRef({ orgId: org.orgId, projectId: project.projectId, name: "OPENAI_API_KEY", provider: "vault", ref: "vault://kv/agents/openai", createdBy: "user_alice" });
line("secret reference", `${secret.name} -> ${secret.provider} ${secret.ref} (the value stays in the vault)`);

try {
  store.createProject({ orgId: org.orgId, slug: "agents", name: "Duplicate" });
} catch (error) {
  if (!(error instanceof ControlPlaneError)) throw error;
  line("typed error", `${error.code}: ${error.message}`);
}

const exported = store.exportOrgAudit({ orgId: org.orgId });
console.log(`\naudit export of ${exported.org.slug}: ${exported.projects.length} project, ${exported.identityProviders.length} identity provider, ${exported.secretRefs.length} secret ref, ${exported.auditEvents.length} audit events`);
for (const summary of exported.usage) console.log(`  usage  ${summary.metric} = ${summary.quantity} ${summary.unit}`);
for (const event of exported.auditEvents) {
  console.log(`  ${new Date(event.occurredAtMs).toISOString()}  ${event.action.padEnd(24)} ${event.targetType}:${event.targetId ?? "-"}  by ${event.actorId ?? "-"}`);
}
store.close();
console.log(`\nstored in ${file}`);
