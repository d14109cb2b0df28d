// One of three Vitest files that each project of vitest.config.mjs runs under its own
// pool (forks, threads, vmThreads, vmForks, and threads without isolation).
import { realmSuite } from "./suite";

realmSuite();
