import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineServer, parseCommandLine, UsageError } from "../src/index.js";

const def = defineServer({
  name: "demo",
  version: "2.0.0",
  config: z.object({
    dataDir: z.string().default("./data").describe("Where data lives."),
    maxRows: z.number().int().min(1).default(100).describe("Row cap."),
    readOnly: z.boolean().default(true).describe("Refuse writes."),
    allowDir: z.array(z.string()).default([]).describe("Allowed roots."),
    token: z
      .string()
      .optional()
      .describe("API token.")
      .meta({ env: ["DEMO_TOKEN"] }),
  }),
  tools: [],
});

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const parsed = parseCommandLine(def, argv, env);
  if (parsed.kind !== "run") throw new Error(parsed.kind);
  return parsed;
};

describe("parseCommandLine", () => {
  it("reads --tool-mode and --search-threshold (flags, env, NAME_FILE), unset unless given", () => {
    expect(run([]).common).toMatchObject({ toolMode: undefined, searchThreshold: undefined });
    expect(run(["--tool-mode", "search", "--search-threshold", "12"]).common).toMatchObject({
      toolMode: "search",
      searchThreshold: 12,
    });
    expect(run([], { TOOLSHED_TOOL_MODE: "all", TOOLSHED_SEARCH_THRESHOLD: "7" }).common).toMatchObject({
      toolMode: "all",
      searchThreshold: 7,
    });
    const dir = mkdtempSync(join(tmpdir(), "tool-mode-"));
    try {
      writeFileSync(join(dir, "mode"), "auto\n");
      expect(run([], { TOOLSHED_TOOL_MODE_FILE: join(dir, "mode") }).common.toolMode).toBe("auto");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => run(["--tool-mode", "some"])).toThrow(
      new UsageError("invalid --tool-mode 'some': expected one of all, search, auto"),
    );
    expect(() => run([], { TOOLSHED_SEARCH_THRESHOLD: "0" })).toThrow(/invalid --search-threshold '0'/);
  });

  it("applies defaults", () => {
    const { common, config } = run([]);
    expect(common).toMatchObject({
      transport: "stdio",
      host: "127.0.0.1",
      port: 3000,
      stateless: false,
      logLevel: "info",
    });
    expect(config).toEqual({ dataDir: "./data", maxRows: 100, readOnly: true, allowDir: [] });
  });

  it("has safe defaults for the transport limits, with env twins, and refuses 0", () => {
    expect(run([]).common).toMatchObject({
      maxSessionsPerPrincipal: 100,
      headersTimeoutSeconds: 10,
      bodyTimeoutSeconds: 30,
      eventStoreMaxBytes: 64 * 1024 * 1024,
      authFailureLimit: "30,0.5",
      publicMetrics: false,
    });
    expect(
      run([], {
        TOOLSHED_MAX_SESSIONS_PER_PRINCIPAL: "5",
        TOOLSHED_BODY_TIMEOUT_SECONDS: "3",
        TOOLSHED_AUTH_FAILURE_LIMIT: "off",
        TOOLSHED_PUBLIC_METRICS: "true",
      }).common,
    ).toMatchObject({
      maxSessionsPerPrincipal: 5,
      bodyTimeoutSeconds: 3,
      authFailureLimit: "off",
      publicMetrics: true,
    });
    expect(() => run(["--body-timeout-seconds", "0"])).toThrow(
      /invalid --body-timeout-seconds '0': expected a number above 0/,
    );
    expect(() => run([], { TOOLSHED_MAX_SESSIONS_PER_PRINCIPAL: "-1" })).toThrow(UsageError);
  });

  it("refuses leases under a second (a live replica's lease would lapse), and takes one of a second", () => {
    expect(() => run(["--stream-lease-ms", "200"])).toThrow(
      /invalid --stream-lease-ms '200' \(TOOLSHED_STREAM_LEASE_MS\): at least 1000 ms/,
    );
    expect(() => run([], { TOOLSHED_TASK_LEASE_MS: "999" })).toThrow(
      /invalid --task-lease-ms '999' \(TOOLSHED_TASK_LEASE_MS\): at least 1000 ms/,
    );
    expect(run(["--stream-lease-ms", "1000"], { TOOLSHED_TASK_LEASE_MS: "1000" }).common).toMatchObject({
      streamLeaseMs: 1000,
      taskLeaseMs: 1000,
    });
  });

  it("sweeps for lapsed tasks every 5 s unless told otherwise; 0 turns the sweep off, a negative is refused", () => {
    expect(run([]).common.taskSweepMs).toBe(5000);
    expect(run([], { TOOLSHED_TASK_SWEEP_MS: "0" }).common.taskSweepMs).toBe(0);
    expect(run(["--task-sweep-ms", "250"]).common.taskSweepMs).toBe(250);
    expect(() => run([], { TOOLSHED_TASK_SWEEP_MS: "-1" })).toThrow(
      /invalid --task-sweep-ms '-1' \(TOOLSHED_TASK_SWEEP_MS\): expected 0 \(no sweep\) or more/,
    );
  });

  it("reads flags, and env twins when a flag is absent", () => {
    const { common, config } = run(
      [
        "--transport",
        "http",
        "--port=8080",
        "--stateless",
        "--allow-dir",
        "/a",
        "--allow-dir",
        "/b",
        "--no-read-only",
      ],
      { TOOLSHED_HOST: "0.0.0.0", TOOLSHED_PORT: "9", TOOLSHED_MAX_ROWS: "5", DEMO_TOKEN: "t" },
    );
    expect(common).toMatchObject({ transport: "http", port: 8080, host: "0.0.0.0", stateless: true });
    expect(config).toEqual({
      dataDir: "./data",
      maxRows: 5,
      readOnly: false,
      allowDir: ["/a", "/b"],
      token: "t",
    });
  });

  it("splits list env vars on commas and reads booleans in the usual spellings", () => {
    const { common, config } = run([], {
      TOOLSHED_ALLOW_DIR: "/x, /y",
      TOOLSHED_STATELESS: "yes",
      TOOLSHED_ALLOWED_HOSTS: "a,b",
    });
    expect(config).toMatchObject({ allowDir: ["/x", "/y"] });
    expect(common).toMatchObject({ stateless: true, allowedHosts: ["a", "b"] });
  });

  it.each([
    [["--port", "http"], {}, "invalid --port 'http': expected a number"],
    [["--port", "70000"], {}, "invalid --port '70000': expected 0-65535"],
    [[], { TOOLSHED_TRANSPORT: "sse" }, "invalid TOOLSHED_TRANSPORT 'sse': expected one of stdio, http"],
    [
      ["--log-level", "loud"],
      {},
      "invalid --log-level 'loud': expected one of trace, debug, info, warn, error, fatal, silent",
    ],
    [["--max-rows", "0"], {}, "invalid --max-rows (TOOLSHED_MAX_ROWS): Too small: expected number to be >=1"],
    [[], { TOOLSHED_READ_ONLY: "maybe" }, "invalid TOOLSHED_READ_ONLY 'maybe': expected true or false"],
    [["--nope"], {}, "Unknown option '--nope'"],
    [["extra"], {}, "Unexpected argument 'extra'"],
  ])("refuses %j %j with one line", (argv, env, message) => {
    expect(() => run(argv, env)).toThrow(UsageError);
    expect(() => run(argv, env)).toThrow(message);
  });

  it("reads request-state keys (first signs, all verify) and refuses short ones", () => {
    const one = "k".repeat(32);
    const two = "o".repeat(40);
    expect(run([]).common.requestStateKeys).toBeUndefined();
    expect(run([], { TOOLSHED_REQUEST_STATE_KEYS: `${one},${two}` }).common.requestStateKeys).toEqual([
      one,
      two,
    ]);
    expect(run(["--request-state-key", two, "--request-state-key", one]).common.requestStateKeys).toEqual([
      two,
      one,
    ]);
    expect(() => run([], { TOOLSHED_REQUEST_STATE_KEYS: `${one},short` })).toThrow(
      /every key must be at least 32 bytes; generate one with `openssl rand -base64 32`/,
    );
  });

  it("reads --confirm (TOOLSHED_CONFIRM): ask by default, never for unattended agents, nothing else", () => {
    expect(run([]).common.confirm).toBe("ask");
    expect(run(["--confirm", "never"]).common.confirm).toBe("never");
    expect(run([], { TOOLSHED_CONFIRM: "never" }).common.confirm).toBe("never");
    expect(run(["--confirm", "ask"], { TOOLSHED_CONFIRM: "never" }).common.confirm).toBe("ask");
    expect(() => run(["--confirm", "sometimes"])).toThrow(UsageError);
    expect(() => run([], { TOOLSHED_CONFIRM: "yes" })).toThrow(/TOOLSHED_CONFIRM/);
    const help = parseCommandLine(def, ["--help"], {});
    expect(help.kind === "help" && help.text).toMatch(/--confirm.*TOOLSHED_CONFIRM/s);
  });

  it("documents every flag with its env twin in --help", () => {
    const parsed = parseCommandLine(def, ["--help"], {});
    expect(parsed.kind).toBe("help");
    const text = (parsed as { text: string }).text;
    expect(text).toContain("toolshed-demo 2.0.0");
    expect(text).toMatch(
      /--data-dir <string>\n\s+Where data lives\. \(default: "\.\/data"\)\s+\[env: TOOLSHED_DATA_DIR\]/,
    );
    expect(text).toMatch(/--token <string>\n\s+API token\.\s+\[env: TOOLSHED_TOKEN, DEMO_TOKEN\]/);
    expect(parseCommandLine(def, ["-v"], {})).toEqual({ kind: "version", text: "2.0.0" });
  });

  it("reads NAME_FILE when NAME is unset: secrets by reference, for the kit's options and a server's own", () => {
    const dir = mkdtempSync(join(tmpdir(), "toolshed-cli-"));
    try {
      writeFileSync(join(dir, "redis"), "redis://secret-host:6379\n");
      writeFileSync(join(dir, "token"), "t0ken");
      const { common, config } = run([], {
        TOOLSHED_REDIS_URL_FILE: join(dir, "redis"),
        DEMO_TOKEN_FILE: join(dir, "token"),
        TOOLSHED_MAX_ROWS_FILE: join(dir, "missing-but-shadowed"),
        TOOLSHED_MAX_ROWS: "7",
      });
      expect(common.redisUrl).toBe("redis://secret-host:6379");
      expect(config).toMatchObject({ token: "t0ken", maxRows: 7 });
      expect(() => run([], { TOOLSHED_API_KEYS_FILE: join(dir, "nope") })).toThrow(
        /TOOLSHED_API_KEYS_FILE: cannot read '.*nope' \(ENOENT\); mount the secret there or unset TOOLSHED_API_KEYS_FILE/,
      );
      const help = parseCommandLine(def, ["--help"], {});
      expect(help.kind === "help" && help.text).toContain("NAME_FILE");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
