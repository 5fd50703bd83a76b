#!/usr/bin/env node
// Prints one closing line for the whole suite from the runners' JSON results:
// "toolshed: N passed, N failed, N skipped" (vitest tests, the template check, conformance scenarios,
// and the full-count protocol fuzzing: one check per server and transport).
import { existsSync, readFileSync } from "node:fs";

const read = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : undefined);
const vitest = read(".test-results/vitest.json");
// `pnpm test:template`, run on its own (its vitest root is turbo/generators; the test line writes here).
const template = read(".test-results/template.json");
const conformance = read(".test-results/conformance.json");
const fuzz = read(".test-results/reliability-fuzz/results/reliability-fuzz.json");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const run of [vitest, template].filter(Boolean)) {
  passed += run.numPassedTests;
  failed += run.numFailedTests;
  skipped += run.numPendingTests + run.numTodoTests;
}
if (conformance) {
  passed += conformance.passed;
  failed += conformance.failed;
}
for (const run of fuzz?.samples.fuzz ?? []) {
  if (run.crashes === 0 && run.unanswered_requests === 0 && run.stdout_non_protocol_bytes === 0) passed++;
  else failed++;
}
process.stdout.write(`toolshed: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 || (!vitest && !conformance) ? 1 : 0);
