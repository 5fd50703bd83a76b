import type * as Crypto from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";

// Count every constant-time comparison the authenticator makes.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof Crypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const { timingSafeEqual } = await import("node:crypto");
const { createApiKeyAuthenticator, hashApiKey } = await import("../src/index.js");

const presented = Array.from({ length: 5 }, (_, i) => `tsk_key_number_${i}_abcdefghijklmnopqrstuvwxyz`);
const auth = createApiKeyAuthenticator({
  keys: presented.map((key, i) => ({ id: `k${i}`, hash: hashApiKey(key), scopes: [], revoked: i === 2 })),
});
const spy = vi.mocked(timingSafeEqual);

describe("API key lookup is constant-time", () => {
  beforeEach(() => {
    spy.mockClear();
  });

  it.each([
    ["the first key", presented[0]!, true],
    ["the last key", presented[4]!, true],
    ["a revoked key", presented[2]!, false],
    ["an unknown key", "tsk_key_nobody_has_abcdefghijklmnopqrstuvwxyz", false],
  ])("compares %s against every stored hash, 32 bytes each, with no early exit", async (_label, key, ok) => {
    const outcome = await auth.authenticate({ "x-api-key": key });
    expect(outcome?.ok).toBe(ok);
    expect(spy).toHaveBeenCalledTimes(5);
    for (const [a, b] of spy.mock.calls) {
      expect(a.byteLength).toBe(32);
      expect(b.byteLength).toBe(32);
    }
  });
});
