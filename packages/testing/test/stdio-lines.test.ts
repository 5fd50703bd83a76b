import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

describe("stdio lines that are not one JSON-RPC message", () => {
  it("answers each with an error line and logs it, then keeps serving", async () => {
    const child = spawn(process.execPath, [BIN], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
    };
    child.stdin.write(
      [
        "this is not json",
        JSON.stringify([{ jsonrpc: "2.0", id: 2, method: "ping" }]),
        JSON.stringify({ id: 3, method: 42 }),
        JSON.stringify(initialize),
        JSON.stringify({ jsonrpc: "2.0", id: 4, method: "ping" }),
        "",
      ].join("\n"),
    );
    const deadline = Date.now() + 10_000;
    while (!out.includes('"id":4') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.stdin.end();
    await once(child, "exit");
    const lines = out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id?: unknown; error?: { code: number; message: string } });
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
  });
});

describe("a stdio request over the size cap", () => {
  it("is answered with its own id, so the client's call fails at once, and the session goes on", async () => {
    const child = spawn(process.execPath, [BIN, "--max-body-bytes", "2048"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const big = {
      jsonrpc: "2.0",
      id: 9,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "z".repeat(10_000) } },
    };
    child.stdin.write(
      [
        JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: {
            protocolVersion: "2025-11-25",
            capabilities: {},
            clientInfo: { name: "raw", version: "0" },
          },
        }),
        JSON.stringify(big),
        JSON.stringify({ jsonrpc: "2.0", id: 10, method: "ping" }),
        "",
      ].join("\n"),
    );
    const deadline = Date.now() + 10_000;
    while (!out.includes('"id":10') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.stdin.end();
    await once(child, "exit");
    const lines = out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id?: unknown; error?: { code: number; message: string } });
    expect(lines.find((l) => l.id === 9)).toMatchObject({
      error: { code: -32600, message: "message exceeds 2048 bytes; send smaller requests" },
    });
    expect(lines.at(-1)).toMatchObject({ id: 10, result: {} });
    // The log names the id, not the content.
    expect(err).toContain("dropped an oversized message");
    expect(err).not.toContain("zzzz");
  });
});
