// A writer for the crash test: writes orgs, projects, usage (one by one and in batches),
// secret refs and audit events in a tight loop on a file, and prints a line for each write
// once it has returned (is acknowledged), synchronously, so no acknowledgement waits in a
// buffer. The parent kills it with SIGKILL at a random moment after the first ones.
const { ControlPlaneStore } = require("../..");

const [file, round] = [process.argv[2], process.argv[3]];
const store = new ControlPlaneStore(file);
const ack = (kind, id) => require("node:fs").writeSync(1, `${kind} ${id}\n`);
for (let i = 0; ; i++) {
  const orgId = `r${round}-o${i}`;
  store.createOrg({ orgId, slug: `r${round}-o${i}`, name: "Org" });
  ack("org", orgId);
  store.createProject({ orgId, projectId: "p", slug: "p", name: "P" });
  ack("project", orgId);
  for (let k = 0; k < 3; k++) {
    const event = store.recordUsage({ orgId, projectId: "p", metric: "tokens", quantity: 1 + k, idempotencyKey: `u${k}` });
    ack("usage", event.id);
  }
  // A batch of 200 events: a kill may land in the middle of it.
  const batch = store.recordUsageBatch(
    Array.from({ length: 200 }, (_, k) => ({ orgId, projectId: "p", metric: "calls", quantity: 1, runId: `b${k}` })),
    { returning: "ids" },
  );
  for (const id of batch.ids) ack("usage", id);
  store.putSecretRef({ orgId, projectId: "p", name: "KEY", provider: "vault", ref: `vault://kv/${orgId}` });
  ack("secret", orgId);
  const audit = store.recordAuditEvent({ orgId, action: "run.start", targetType: "run", targetId: `run${i}` });
  ack("audit", audit.id);
}
