import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    // Child processes and files on disk: give slow machines room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
