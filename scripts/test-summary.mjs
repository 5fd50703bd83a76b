#!/usr/bin/env node
// Prints one closing line for the whole suite from the runners' JSON results:
// "toolshed: N passed, N failed, N skipped" (vitest tests, the template check, conformance scenarios,
// and the full-count protocol fuzzing: one check per server and transport).
import { existsSync, readFileSync } from "node:fs";

const read = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : undefined);
// The test line's two vitest runs: packages and servers two files at a time, then bench and deploy one at a time.
const vitest = read(".test-results/vitest.json");
const vitestSerial = read(".test-results/vitest-serial.json");
// `pnpm test:template`, run on its own (its vitest root is turbo/generators; the test line writes here).
const template = read(".test-results/template.json");
const conformance = read(".test-results/conformance.json");
const fuzz = read(".test-results/reliability-fuzz/results/reliability-fuzz.json");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const run of [vitest, vitestSerial, template].filter(Boolean)) {
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
// The full-count fuzzing must have covered every server on both transports: a run that fuzzed fewer
// (a target dropped, a transport skipped) counts as one failure, named here.
if (fuzz) {
  const { TARGETS } = await import("../bench/dist/reliability/targets.js");
  const expected = TARGETS.flatMap((t) => [`${t.name} stdio`, `${t.name} http`]).sort();
  const seen = fuzz.samples.fuzz.map((f) => `${f.target} ${f.transport}`).sort();
  if (JSON.stringify(expected) !== JSON.stringify(seen)) {
    failed++;
    process.stderr.write(
      `toolshed: the full-count fuzzing covered ${seen.join(", ") || "nothing"}; expected ${expected.join(", ")}\n`,
    );
  }
}
process.stdout.write(`toolshed: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 || (!vitest && !conformance) ? 1 : 0);
