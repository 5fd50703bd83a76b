import { Writable } from "node:stream";
import type { ServerContext } from "@modelcontextprotocol/server";
import { createLogger } from "@toolshed/logging";
import { describe, expect, it } from "vitest";
import { RequestStateKeys } from "../src/ask.js";

/** A real logger writing JSON lines into an array. */
function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, logger: createLogger({ name: "keys-test", destination }) };
}

const ctx = {} as ServerContext;
const payload = { a: { q1: { action: "accept", content: { ok: true } } }, c: "call" };

describe("RequestStateKeys", () => {
  it("without configured keys, signs with one random key per process and warns once, naming the fix", async () => {
    const first = capture();
    const second = capture();
    const a = new RequestStateKeys(undefined, first.logger);
    const b = new RequestStateKeys([], second.logger);
    const state = await a.mint(payload);
    await a.mint(payload);
    await b.mint(payload);
    // Same process, same random key: another runtime of this process verifies it.
    expect(await b.verify(state, ctx)).toEqual(payload);
    await new Promise((resolve) => setImmediate(resolve));
    const warnings = [...first.lines, ...second.lines].filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/--request-state-key \(TOOLSHED_REQUEST_STATE_KEYS\).*multi-replica/);
  });

  it("never warns with a configured key, and the key never reaches the log", async () => {
    const { lines, logger } = capture();
    const key = "s".repeat(20) + "-secret-signing-key";
    const keys = new RequestStateKeys([key], logger);
    const state = await keys.mint(payload);
    expect(state).not.toContain(key);
    expect(await keys.verify("v1.bad.mac", ctx)).toEqual({ refused: expect.any(String) as unknown });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([]);
  });

  it("verifies with every key and signs with the first (rotation)", async () => {
    const { logger } = capture();
    const oldKey = "o".repeat(32);
    const newKey = "n".repeat(32);
    const before = new RequestStateKeys([oldKey], logger);
    const during = new RequestStateKeys([newKey, oldKey], logger);
    const after = new RequestStateKeys([newKey], logger);
    const old = await before.mint(payload);
    expect(await during.verify(old, ctx)).toEqual(payload);
    expect(await after.verify(old, ctx)).toEqual({ refused: "mac" });
    const fresh = await during.mint(payload);
    expect(await after.verify(fresh, ctx)).toEqual(payload);
    expect(await before.verify(fresh, ctx)).toEqual({ refused: "mac" });
  });

  it("refuses keys shorter than 32 bytes", () => {
    const { logger } = capture();
    expect(() => new RequestStateKeys(["too-short"], logger)).toThrow(/at least 32 bytes/);
  });
});
