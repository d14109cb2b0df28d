// startMigration's types (docs/postgres.md), by hand beside index.d.ts: the progress and
// the report are the core's, generated into native.d.ts.
import type { ControlPlaneMigrationProgress, ControlPlaneMigrationReport } from "./native";

/** A move of a SQLite file's store into PostgreSQL, a step at a time (`startMigration`). */
export interface ControlPlaneMigration {
  /** Where the move stands. */
  progress(): Promise<ControlPlaneMigrationProgress>;
  /** Copies up to `rows` rows of the table under way, in one transaction on the target (`done` once every table is copied). */
  step(rows: number): Promise<ControlPlaneMigrationProgress>;
  /** Compares the two sides and checks the target (`ok`). */
  verify(): Promise<ControlPlaneMigrationReport>;
  /** Lets go of the file's snapshot and the target's connection. */
  close(): void;
}

/**
 * Opens a move of the store in the SQLite file `from` (`sqlite:<path>`) into the empty
 * PostgreSQL database `to` (`postgres://...`), or goes on with one that stopped: what
 * `control-plane migrate` runs (docs/postgres.md). `leaseSeconds` (1 to 86400, default 60):
 * how long the move's hold on the target lasts after each step.
 */
export declare function startMigration(from: string, to: string, options?: { leaseSeconds?: number }): Promise<ControlPlaneMigration>;
