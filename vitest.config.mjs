import { defineConfig } from "vitest/config";

// The realm suite (__tests__/realms/vitest) runs once under each of Vitest's pools, and
// once in one realm for all files (--no-isolate): each project is one of those.
const realms = (name, test) => ({ extends: true, test: { name: `realms-${name}`, include: ["__tests__/realms/vitest/*.test.ts"], ...test } });

export default defineConfig({
  test: {
    // Child processes and files on disk: give slow machines room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "store",
          include: ["__tests__/**/*.test.ts"],
          // Bun's own suites (bun:sqlite) run under `bun test`; the realm suite below.
          exclude: ["__tests__/bun/**", "__tests__/realms/**", "**/node_modules/**"],
        },
      },
      realms("forks", { pool: "forks" }),
      realms("threads", { pool: "threads" }),
      realms("vmThreads", { pool: "vmThreads" }),
      realms("vmForks", { pool: "vmForks" }),
      realms("no-isolate", { pool: "threads", isolate: false }),
    ],
  },
});
