import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
};

type Line = { id?: unknown; result?: unknown; error?: { code: number; message: string } };

/** Writes raw lines to the fixture over stdio, waits for the answer with id `lastId`, and returns what came back. */
async function exchange(
  args: string[],
  lines: string[],
  lastId: number,
): Promise<{ lines: Line[]; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  child.stdin.write([...lines, ""].join("\n"));
  const deadline = Date.now() + 30_000; // a loaded machine can take long to start the fixture
  while (!out.includes(`"id":${lastId}`) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  child.stdin.end();
  await once(child, "exit");
  return {
    lines: out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line),
    stderr: err,
  };
}

describe("stdio lines that are not one JSON-RPC message", () => {
  it("answers each with an error line and logs it, then keeps serving", async () => {
    const { lines, stderr: err } = await exchange(
      [],
      [
        "this is not json",
        JSON.stringify([{ jsonrpc: "2.0", id: 2, method: "ping" }]),
        JSON.stringify({ id: 3, method: 42 }),
        JSON.stringify(INITIALIZE),
        JSON.stringify({ jsonrpc: "2.0", id: 4, method: "ping" }),
      ],
      4,
    );
    expect(lines.slice(0, 3).map((l) => [l.id, l.error?.code])).toEqual([
      [undefined, -32700],
      [undefined, -32600],
      [3, -32600],
    ]);
    expect(lines[1]!.error!.message).toMatch(/batches are not supported/);
    expect(lines.at(-1)).toMatchObject({ id: 4, result: {} });
    const warnings = err.split("\n").filter((l) => l.includes("answered an invalid stdio line"));
    expect(warnings.map((l) => (JSON.parse(l) as { reason: string }).reason)).toEqual([
      "not_json",
      "batch",
      "not_jsonrpc",
    ]);
    // The offending content never reaches the log.
    expect(err).not.toContain("this is not json");
  }, 60_000);
});

describe("a stdio request over the size cap", () => {
  it("is answered with its own id, so the client's call fails at once, and the session goes on", async () => {
    const big = {
      jsonrpc: "2.0",
      id: 9,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "z".repeat(10_000) } },
    };
    const { lines, stderr: err } = await exchange(
      ["--max-body-bytes", "2048"],
      [
        JSON.stringify(INITIALIZE),
        JSON.stringify(big),
        JSON.stringify({ jsonrpc: "2.0", id: 10, method: "ping" }),
      ],
      10,
    );
    expect(lines.find((l) => l.id === 9)).toMatchObject({
      error: { code: -32600, message: "message exceeds 2048 bytes; send smaller requests" },
    });
    expect(lines.at(-1)).toMatchObject({ id: 10, result: {} });
    // The log names the id, not the content.
    expect(err).toContain("dropped an oversized message");
    expect(err).not.toContain("zzzz");
  }, 60_000);
});
