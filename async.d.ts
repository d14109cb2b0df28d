// The async store's types (ControlPlaneStore.connect, docs/postgres.md), by hand beside
// index.d.ts: each is the generated sync class's methods, each returning a Promise.
import type { ControlPlaneStore, OrgScope, ControlPlaneConnectOptions, ControlPlaneRequestContext } from "./native";

/** Each method of `T` returning a Promise of what it returns. */
export type ControlPlanePromised<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K];
};

/**
 * The store `ControlPlaneStore.connect(url, options?)` resolves to, on PostgreSQL or SQLite:
 * the sync store's methods, with the same inputs, results and errors, each returning a
 * Promise (an input refused before the call runs rejects it too).
 */
export declare class AsyncControlPlaneStore {
  private constructor();
  /** `"postgres"` or `"sqlite"`; `null` once closed. */
  readonly dialect: "postgres" | "sqlite" | null;
  /** A handle scoped to one org, as the sync store's `forOrg`. */
  forOrg(orgId: string, context?: ControlPlaneRequestContext): AsyncOrgScope;
  /** Closes the pool's connections (those lent out when their call ends), or the SQLite connection. */
  close(): Promise<void>;
}
export interface AsyncControlPlaneStore extends ControlPlanePromised<Omit<ControlPlaneStore, "close" | "forOrg">> {}

/** `forOrg`'s handle on the async store: the org-level methods, each returning a Promise. */
export declare class AsyncOrgScope {
  private constructor();
  readonly orgId: string;
  readonly context: ControlPlaneRequestContext;
}
export interface AsyncOrgScope extends ControlPlanePromised<Omit<OrgScope, "orgId" | "context">> {}

declare module "./native" {
  namespace ControlPlaneStore {
    /**
     * The async store on `postgres://` / `postgresql://` (a pool; TLS by `sslmode=require`
     * or `verify-full` and `sslrootcert=<file>` in the URL), `sqlite:<path>` or
     * `sqlite::memory:`. Creates or checks the schema before it resolves.
     */
    function connect(url: string, options?: ControlPlaneConnectOptions | null): Promise<AsyncControlPlaneStore>;
  }
}
