// The package's types. The store's classes and the types of every request and result are
// generated from the Rust definitions into native.d.ts (`npm run build`); this file adds
// what generation cannot express: the handles the store accepts, the error class and its
// codes, the `Database` handle's typed statements, and the batch overloads.
export * from "./native";

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

/** What the store binds to another binding's statement: past 2^53 an integer is a `bigint`. */
export type SqliteBindValue = string | number | bigint | null | Uint8Array;

/**
 * A statement of another binding's handle, as the store uses it: `run(...params)` for a
 * write, `all(...params)` for rows (arrays, or objects in column order), given positional
 * `SqliteBindValue`s. (`any[]`: better-sqlite3's typings give `run` a `[{}]` parameter.)
 */
export interface SqliteStatementLike {
  run(...params: any[]): unknown;
  all(...params: any[]): unknown[];
  /** Not called by this store; here so that an inline handle's `get` is typed too. */
  get?(...params: any[]): unknown;
}

/**
 * Another SQLite binding's handle (bun:sqlite, better-sqlite3, node:sqlite), or any object
 * with `exec(sql)` and `prepare(sql)` or `query(sql)`. The store runs every statement
 * through it, on its connection; a write inside the owner's transaction joins it as a
 * savepoint. `store.close()` lets go of the handle: its owner closes it.
 */
export type SqliteHandle = { exec(sql: string): unknown } & (
  | { prepare(sql: string): SqliteStatementLike }
  | { query(sql: string): SqliteStatementLike }
);

/** @deprecated Use `SqliteHandle`: the store never opens another binding's file itself. */
export type ForeignSqliteHandle = SqliteHandle;

/**
 * What the store and `ensureControlPlaneTables` accept: a file path or `":memory:"` (a
 * connection of the store's own, closed by `store.close()`), a `Database` of this package
 * (shared), or another binding's handle. (A `Database` is a `SqliteHandle` by its shape;
 * naming it here would cost an inline `{exec, query}` handle its parameter types.)
 */
export type ControlPlaneSqlite = string | SqliteHandle;

/**
 * The codes of a `ControlPlaneError` (docs/errors.md): a misspelt `case` does not compile.
 * For a code a later version adds before these types name it, merge it in:
 * `declare module "smithers-control-plane" { interface ControlPlaneErrorCodes { NEW_CODE: true } }`.
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
  /** The database server cannot be reached, or the connection to it was lost (PostgreSQL). */
  UNAVAILABLE: true;
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

export * from "./migrate";
export * from "./async";
