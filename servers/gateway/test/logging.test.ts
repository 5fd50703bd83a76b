// Log notifications through the gateway: a real client (both eras) -> the gateway over HTTP -> the kit
// fixture over HTTP, reached on 2026-07-28 (the level in each request's _meta) and pinned to 2025
// (the session's logging/setLevel), and over stdio. `test_logging_tool` logs at debug, info and
// warning; `test_tool_with_logging` logs three info lines 50 ms apart. A caller gets the upstream's
// messages during its call, from its own level up, and never another caller's. The same during
// resources/read and prompts/get, from an upstream (`notes`) that logs while it reads and builds.
import everything from "@toolshed/fixture-everything";
import { defineServer } from "@toolshed/server";
import type { Client } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  bothEras,
  FIXTURE_BIN,
  startGatewayOver,
  textOf,
  type GatewayOver,
  type ToolResultShape,
} from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** The 2026-07-28 per-request log level's `_meta` key. */
const LOG_LEVEL_META_KEY = "io.modelcontextprotocol/logLevel";

/** An upstream that logs at debug and info while it reads its one resource and builds its one prompt. */
const notes = defineServer({
  name: "notes",
  version: "0.0.0",
  tools: [],
  forward: {
    listTools: () => [],
    callTool: () => Promise.resolve(undefined),
    resources: {
      list: () => [{ uri: "notes://today", name: "today", mimeType: "text/plain" }],
      templates: () => [],
      read(_deps, uri, ctx) {
        ctx.log.debug(`opening ${uri}`);
        ctx.log.info(`read ${uri}`);
        return Promise.resolve({ contents: [{ uri, mimeType: "text/plain", text: "buy milk" }] });
      },
    },
    prompts: {
      list: () => [{ name: "recap", description: "Recaps the notes" }],
      get(_deps, name, _args, ctx) {
        ctx.log.debug(`building ${name}`);
        ctx.log.info(`built ${name}`);
        return Promise.resolve({
          messages: [{ role: "user", content: { type: "text", text: "Recap: buy milk" } }],
        });
      },
    },
  },
});

let over: GatewayOver<"fx" | "notes">;

beforeAll(async () => {
  over = await startGatewayOver(
    { fx: everything, notes },
    (urls) => `upstreams:
${bothEras("fx", urls.fx)}${bothEras("notes", urls.notes)}  fx-stdio:
    command: ${process.execPath}
    args: [${JSON.stringify(FIXTURE_BIN)}]
  fx-stdio-legacy:
    command: ${process.execPath}
    args: [${JSON.stringify(FIXTURE_BIN)}]
    protocol: "2025"
`,
  );
});

afterAll(async () => {
  await over?.close();
});

type Era = "legacy" | "modern";
type Level = "debug" | "info" | "warning" | "error";
interface Logged {
  level: string;
  logger?: string;
  data: unknown;
}

/** A client of the gateway that keeps the log messages it receives. */
async function connect(era: Era): Promise<{ client: Client; logs: Logged[] }> {
  const client = await over.as(undefined, era);
  const logs: Logged[] = [];
  client.setNotificationHandler("notifications/message", (n) => {
    logs.push(n.params);
  });
  return { client, logs };
}

/**
 * One tool call at `level` (undefined: the caller asks for none: a 2025 client that never sent
 * logging/setLevel, a 2026-07-28 request whose _meta names no level); the logs seen when it returns.
 */
async function call(
  era: Era,
  tool: string,
  level: Level | undefined,
  connected?: { client: Client; logs: Logged[] },
): Promise<{ result: ToolResultShape; logs: Logged[] }> {
  const own = connected ?? (await connect(era));
  try {
    if (era === "legacy" && level) await own.client.setLoggingLevel(level);
    const result = (await own.client.callTool({
      name: tool,
      arguments: {},
      ...(era === "modern" && level ? { _meta: { [LOG_LEVEL_META_KEY]: level } } : {}),
    })) as ToolResultShape;
    // What arrived by the time the result did: the messages travel on the call's own stream.
    return { result, logs: [...own.logs] };
  } finally {
    if (!connected) await own.client.close();
  }
}

const lines = (logs: Logged[]) => logs.map((l) => `${l.level}:${String(l.data)}`);

describe.each([
  ["legacy", "fx"],
  ["legacy", "fx-legacy"],
  ["modern", "fx"],
  ["modern", "fx-legacy"],
] as const)("a %s client, upstream %s", (era, upstream) => {
  it("gets the upstream's three log lines during test_tool_with_logging, as the upstream sent them", async () => {
    const { result, logs } = await call(era, `${upstream}__test_tool_with_logging`, "debug");
    expect(textOf(result)).toBe("Tool with logging executed successfully");
    expect(lines(logs)).toEqual([
      "info:Tool execution started",
      "info:Tool processing data",
      "info:Tool execution completed",
    ]);
    // The upstream's own logger name (its tool), not rewritten.
    expect(logs.map((l) => l.logger)).toEqual(Array(3).fill("test_tool_with_logging"));
  });

  it("gets only what is at or above its level", async () => {
    const debug = await call(era, `${upstream}__test_logging_tool`, "debug");
    expect(lines(debug.logs)).toEqual(["debug:debug line", "info:info line", "warning:warning line"]);
    const warning = await call(era, `${upstream}__test_logging_tool`, "warning");
    expect(lines(warning.logs)).toEqual(["warning:warning line"]);
    const error = await call(era, `${upstream}__test_logging_tool`, "error");
    expect(lines(error.logs)).toEqual([]);
    expect(textOf(error.result)).toBe("logged");
  });

  it("without a level: none on 2026-07-28, warning and above on 2025 (as from the kit's own tools)", async () => {
    const { logs } = await call(era, `${upstream}__test_logging_tool`, undefined);
    expect(lines(logs)).toEqual(era === "modern" ? [] : ["warning:warning line"]);
  });
});

it("keeps concurrent callers' logs apart over HTTP (each its own, at its own level)", async () => {
  for (const upstream of ["fx", "fx-legacy"]) {
    const a = await connect("legacy");
    const b = await connect("modern");
    try {
      // The 2025 upstream's session is at debug after a's first call; b still gets nothing below error.
      const [ra, rb] = await Promise.all([
        call("legacy", `${upstream}__test_tool_with_logging`, "debug", a),
        call("modern", `${upstream}__test_logging_tool`, "warning", b),
      ]);
      expect(lines(ra.logs)).toEqual([
        "info:Tool execution started",
        "info:Tool processing data",
        "info:Tool execution completed",
      ]);
      expect(lines(rb.logs)).toEqual(["warning:warning line"]);
    } finally {
      await a.client.close();
      await b.client.close();
    }
  }
});

describe("a stdio upstream", () => {
  it("passes a lone call's logs on", async () => {
    for (const era of ["legacy", "modern"] as const) {
      const { logs } = await call(era, "fx-stdio__test_logging_tool", "info");
      expect(lines(logs)).toEqual(["info:info line", "warning:warning line"]);
    }
  });

  it("never gives one caller's logs to another when calls overlap (no stream to tell them apart)", async () => {
    // A 2025 stdio session logs every call at the session's level (debug, lowered for a): b's lines
    // flow while a, the only caller taking logs, is in flight. They must not reach a.
    const a = await connect("modern");
    const b = await connect("modern");
    try {
      const first = call("modern", "fx-stdio-legacy__test_tool_with_logging", "debug", a);
      for (let i = 0; i < 100 && a.logs.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(lines(a.logs)).toEqual(["info:Tool execution started"]);
      const rb = await call("modern", "fx-stdio-legacy__test_logging_tool", undefined, b);
      const ra = await first;
      expect(rb.logs).toEqual([]);
      // a's own lines only (those sent while b was in flight are dropped, not guessed).
      for (const line of lines(ra.logs)) {
        expect([
          "info:Tool execution started",
          "info:Tool processing data",
          "info:Tool execution completed",
        ]).toContain(line);
      }
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });
});

describe.each([
  ["legacy", "notes"],
  ["legacy", "notes-legacy"],
  ["modern", "notes"],
  ["modern", "notes-legacy"],
] as const)("a %s client reading and prompting through upstream %s", (era, upstream) => {
  /** The log lines a read and a prompt brought, at `level` (undefined: none asked for). */
  async function readAndPrompt(level: Level | undefined): Promise<{ read: string[]; prompt: string[] }> {
    const own = await connect(era);
    try {
      if (era === "legacy" && level) await own.client.setLoggingLevel(level);
      const meta = era === "modern" && level ? { _meta: { [LOG_LEVEL_META_KEY]: level } } : {};
      const read = await own.client.readResource({ uri: `${upstream}+notes://today`, ...meta });
      expect((read.contents[0] as { text: string }).text).toBe("buy milk");
      const readLogs = lines(own.logs);
      own.logs.length = 0;
      const prompt = await own.client.getPrompt({ name: `${upstream}__recap`, arguments: {}, ...meta });
      expect(prompt.messages).toHaveLength(1);
      return { read: readLogs, prompt: lines(own.logs) };
    } finally {
      await own.client.close();
    }
  }

  it("gets the upstream's log lines during resources/read and prompts/get, from its level up", async () => {
    expect(await readAndPrompt("debug")).toEqual({
      read: ["debug:opening notes://today", "info:read notes://today"],
      prompt: ["debug:building recap", "info:built recap"],
    });
    expect(await readAndPrompt("info")).toEqual({
      read: ["info:read notes://today"],
      prompt: ["info:built recap"],
    });
    // No level: none on 2026-07-28, warning and above on 2025 (none of these lines).
    expect(await readAndPrompt(undefined)).toEqual({ read: [], prompt: [] });
  });
});
