import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    // Bun's own suites (bun:sqlite) run under `bun test`.
    exclude: ["__tests__/bun/**", "**/node_modules/**"],
    // Child processes and files on disk: give slow machines room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
