#!/usr/bin/env node
// Runs test-line steps side by side:
//   node scripts/side-by-side.mjs "<name>=<command line>" "<name>=<command line>" …
// For steps that mostly wait on something other than the CPU (the release test waits on its
// registry and downloads), so the suite's wall time is not their sum. Each output line is prefixed
// with its step's name. Exits 1 if any step failed, once every step has ended: a failing step does
// not cut the others' reports short.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const steps = process.argv.slice(2).map((arg) => {
  const at = arg.indexOf("=");
  return at > 0 ? { name: arg.slice(0, at), command: arg.slice(at + 1) } : undefined;
});
if (steps.length === 0 || steps.some((s) => !s?.command)) {
  process.stderr.write('usage: node scripts/side-by-side.mjs "<name>=<command line>" …\n');
  process.exit(2);
}

const results = await Promise.all(
  steps.map(
    ({ name, command }) =>
      new Promise((resolve) => {
        const started = Date.now();
        const done = (code, why) => resolve({ name, code, why, seconds: (Date.now() - started) / 1000 });
        const child = spawn(command, { shell: true, stdio: ["ignore", "pipe", "pipe"] });
        for (const [from, to] of [
          [child.stdout, process.stdout],
          [child.stderr, process.stderr],
        ]) {
          createInterface({ input: from, crlfDelay: Infinity }).on("line", (line) =>
            to.write(`[${name}] ${line}\n`),
          );
        }
        child.on("error", (err) => done(1, err.message));
        child.on("close", (code, signal) => done(code ?? 1, signal ? `killed by ${signal}` : ""));
      }),
  ),
);

for (const r of results) {
  const verdict = r.code === 0 ? "passed" : `FAILED (exit ${r.code}${r.why ? `, ${r.why}` : ""})`;
  process.stderr.write(`side-by-side: ${r.name} ${verdict} in ${r.seconds.toFixed(0)} s\n`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
