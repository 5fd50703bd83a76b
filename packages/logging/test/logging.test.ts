import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, createMcpLogBridge, type McpLogLevel } from "../src/index.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("writes JSON lines with name, level label and ISO time", () => {
    const { lines, stream } = capture();
    createLogger({ name: "t", destination: stream }).info({ tool: "query" }, "called");
    expect(lines[0]).toMatchObject({ name: "t", level: "info", msg: "called", tool: "query" });
    expect(String(lines[0]!.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("redacts secrets at every depth it promises", () => {
    const { lines, stream } = capture();
    const log = createLogger({ name: "t", destination: stream });
    log.info(
      {
        token: "t0p",
        config: { password: "hunter2", apiKey: "k-123" },
        deep: { inner: { client_secret: "s3" } },
        req: { headers: { authorization: "Bearer abc", "x-api-key": "key-9", accept: "json" } },
      },
      "secrets",
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ["t0p", "hunter2", "k-123", "s3\"", "Bearer abc", "key-9"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('"accept":"json"');
    expect(text).toContain("[redacted]");
  });

  it("honours the level", () => {
    const { lines, stream } = capture();
    const log = createLogger({ name: "t", level: "warn", destination: stream });
    log.info("hidden");
    log.warn("shown");
    expect(lines.map((l) => l.msg)).toEqual(["shown"]);
  });
});

describe("createMcpLogBridge", () => {
  it("sends to the client at or above the level it set, warning by default", () => {
    const { lines, stream } = capture();
    const sent: { level: McpLogLevel; data: unknown }[] = [];
    let level: McpLogLevel | undefined;
    const log = createMcpLogBridge(
      createLogger({ name: "t", level: "debug", destination: stream }),
      { level: () => level, send: (p) => sent.push(p) },
      "query",
    );
    log.info("not sent by default");
    log.warn("sent", { rows: 3 });
    level = "debug";
    log.debug("now sent");
    expect(sent).toEqual([
      { level: "warning", logger: "query", data: { message: "sent", rows: 3 } },
      { level: "debug", logger: "query", data: "now sent" },
    ]);
    expect(lines).toHaveLength(3);
  });
});
