import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attacksOn, startAttackServer, type AttackContext } from "../src/reliability/attacks.js";
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

  // Prompt-injection markers in upstream content are each server's own attack (github: issues and
  // comments from a hostile GitHub on loopback), in bench/src/reliability/domain-attacks.ts.
});

// Still to become attacks here (each is covered by the server's own tests meanwhile): SSRF through
// operator-set upstream URLs (GITHUB_API_URL: servers/github/test/faults.test.ts; the embedder URL:
// servers/vector-search/test/embedders.test.ts) and example-api's path parameters.
describe("attacks still to write", () => {
  it.todo("github: SSRF through GITHUB_API_URL redirects to private addresses is refused");
  it.todo("example-api: path parameters cannot move a call to another path or host");
  it.todo("vector-search: SSRF through the OpenAI-compatible embedder URL is refused");
});
