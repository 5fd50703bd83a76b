import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attacksOn, startAttackServer } from "../src/reliability/attacks.js";
import type { AttackContext } from "../src/reliability/types.js";
import { TARGETS } from "../src/reliability/targets.js";

// The attack suite: each attempt against a real server process (API-key auth on, log captured at
// debug) must be refused. `pnpm reliability` runs the same checks and counts `attacks_not_refused`.
describe.each(TARGETS.map((t) => [t.name, t] as const))("attacks on %s", (_name, target) => {
  let ctx: AttackContext;
  beforeAll(async () => {
    ctx = await startAttackServer(target);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  for (const attack of attacksOn(target)) {
    it(attack.name, async () => {
      const outcome = await attack.run(ctx);
      expect(outcome.refused, outcome.detail).toBe(true);
    });
  }

  // Prompt-injection markers in upstream content, SSRF through an upstream's redirects (github: a
  // hostile GitHub on loopback; vector-search: a hostile embeddings API behind its embedder URL) and
  // path parameters that try to leave their segment (example-api) are each server's own attacks, in
  // bench/src/reliability/<server>-attacks.ts.
});
