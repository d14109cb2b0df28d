// A Jest reporter that fails the run when the heap grows from file to file: with
// `--logHeapUsage` (and `node --expose-gc`, so Jest collects before measuring) in one
// worker, the heap after the last realm file must be within 10% of the heap after the
// first. The first file to run also carries Jest's own warm-up (measured here: 20 to 24
// MiB after it, then flat at 25 to 26 MiB over 40 files), so "the first" is the first
// file after it, the second to run; both are printed. A realm kept alive by the addon
// after its file ended grows the heap by about 0.85 MiB a file (1.44x over 12 files).
// The last files are read as the lowest of the last three: one file's figure can sit a
// megabyte or two high when a collection falls late (1.066x to 1.081x in most runs, once
// 1.119x with the 7th file lower than the 6th), while a realm kept per file raises all
// three.
"use strict";

const LIMIT = 1.1;

class HeapReporter {
  constructor(globalConfig) {
    this.config = globalConfig;
    this.files = [];
    this.error = undefined;
  }

  onTestResult(test, result) {
    if (/realms[\\/]jest[\\/]/.test(test.path)) this.files.push({ path: test.path, heap: result.memoryUsage, start: result.perfStats.start });
  }

  onRunComplete() {
    if (!this.config.logHeapUsage || this.config.maxWorkers !== 1) return;
    const files = this.files.sort((a, b) => a.start - b.start);
    if (files.length < 10 || files.some((f) => typeof f.heap !== "number")) {
      this.error = new Error(`heap check: expected 10 or more realm files with heap figures, got ${files.length}`);
      return;
    }
    const [warmUp, first] = [files[0].heap, files[1].heap];
    const last = Math.min(...files.slice(-3).map((f) => f.heap));
    const mib = (n) => (n / 1048576).toFixed(1);
    const line = `heap after the first realm file ${mib(warmUp)} MiB (with Jest's warm-up), the second ${mib(first)} MiB, the lowest of the last three (to the ${files.length}th) ${mib(last)} MiB: ${(last / first).toFixed(3)}x the second (limit ${LIMIT}x)`;
    process.stderr.write(`${line}\n`);
    if (last > first * LIMIT) this.error = new Error(`heap grew from file to file: ${line}`);
  }

  getLastError() {
    return this.error;
  }
}

module.exports = HeapReporter;
