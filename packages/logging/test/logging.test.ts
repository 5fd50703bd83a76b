import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  createLogger,
  createMcpLogBridge,
  redactKeys,
  scrubSecrets,
  type McpLogLevel,
} from "../src/index.js";

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
    for (const secret of ["t0p", "hunter2", "k-123", 's3"', "Bearer abc", "key-9"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('"accept":"json"');
    expect(text).toContain("[redacted]");
  });

  it("scrubs secret-shaped text from logged errors", () => {
    const { lines, stream } = capture();
    const log = createLogger({ name: "t", destination: stream });
    log.error({ err: new Error("connect postgres://app:s3cr3t@db:5432 failed, password=hunter2") }, "boom");
    const text = JSON.stringify(lines[0]);
    expect(text).not.toMatch(/s3cr3t|hunter2/);
    expect(text).toContain("postgres://app:[redacted]@db:5432");
  });

  it.each([
    ["password=hunter2 host=db", "password=[redacted] host=db"],
    ['api_key: "abc123"', "api_key: [redacted]"],
    ["Authorization: Bearer eyJhbGciOi.J9.x", "Authorization: Bearer [redacted]"],
    ["token ghp_abcdefghijklmnopqrstuvwxyz0123 used", "token [redacted] used"],
    ["https://user:pw@example.com/x", "https://user:[redacted]@example.com/x"],
    ["nothing secret here", "nothing secret here"],
  ])("scrubSecrets(%s)", (input, expected) => {
    expect(scrubSecrets(input)).toBe(expected);
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
    let level: McpLogLevel | undefined = undefined;
    const log = createMcpLogBridge(
      createLogger({ name: "t", level: "debug", destination: stream }),
      { level: () => level, send: (p) => sent.push(p) },
      "query",
    );
    log.info("not sent by default");
    log.warn({ rows: 3 }, "sent");
    level = "debug";
    log.debug("now sent");
    expect(sent).toEqual([
      { level: "warning", logger: "query", data: { message: "sent", rows: 3 } },
      { level: "debug", logger: "query", data: "now sent" },
    ]);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatchObject({ level: "warn", msg: "sent", rows: 3 });
  });

  it("takes fields first, as pino does, and keeps the fields of an untyped caller's (message, fields)", () => {
    const { lines, stream } = capture();
    const log = createMcpLogBridge(
      createLogger({ name: "t", level: "debug", destination: stream }),
      { level: () => undefined, send: () => {} },
      "query",
    );
    log.info({ rows: 1 }, "pino order");
    (log.info as (message: string, fields: object) => void)("old order", { rows: 2 });
    expect(lines.map((l) => [l.msg, l.rows])).toEqual([
      ["pino order", 1],
      ["old order", 2],
    ]);
  });
});

describe("redactKeys", () => {
  it("copies only what it changes", () => {
    const clean = { a: 1, b: { c: [1, { d: "x" }] } };
    expect(redactKeys(clean)).toBe(clean);
    const dirty = { a: 1, nested: { Password: "p", keep: { k: 1 } }, list: [{ token: "t" }] };
    const out = redactKeys(dirty);
    expect(out).toEqual({
      a: 1,
      nested: { Password: "[redacted]", keep: { k: 1 } },
      list: [{ token: "[redacted]" }],
    });
    expect(out.nested.keep).toBe(dirty.nested.keep);
    expect(dirty.nested.Password).toBe("p");
  });
});
