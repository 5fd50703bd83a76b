import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { connectHttpClient, spawnStdioServer, textOf } from "../src/index.js";

const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

describe("stdio end to end (real binary, real pipes)", () => {
  it("keeps stdout to JSON-RPC only while logs go to stderr", async () => {
    const server = await spawnStdioServer(process.execPath, [BIN], { env: { TOOLSHED_LOG_LEVEL: "debug" } });
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name)).toContain("echo");
    expect(textOf(await server.client.callTool({ name: "echo", arguments: { message: "über ✓" } }))).toBe(
      "über ✓",
    );
    const progress: number[] = [];
    await server.client.callTool(
      { name: "slow", arguments: { ms: 50 } },
      {
        onprogress: (p) => progress.push(p.progress),
      },
    );
    // Sent in order, 1..10, before the result. The SDK client runs notification handlers on a
    // microtask but responses at once, so when the last progress and the result arrive in one
    // stdout chunk it may drop that last one: 9 or 10, always in order.
    expect(progress.length).toBeGreaterThanOrEqual(9);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].slice(0, progress.length));
    const failed = await server.client.callTool({ name: "fail", arguments: { mode: "crash" } });
    expect(failed.isError).toBe(true);
    await expect(server.client.callTool({ name: "missing", arguments: {} })).rejects.toThrow(/tools\/list/);
    const code = await server.close();

    expect(code).toBe(0);
    expect(server.stdout().length).toBeGreaterThan(0);
    expect(server.nonProtocolLines()).toEqual([]);
    const logLines = server.stderr().split("\n").filter(Boolean);
    expect(logLines.some((l) => l.includes('"msg":"toolshed-everything ready on stdio"'))).toBe(true);
    expect(logLines.some((l) => l.includes('"tool":"echo"') && l.includes('"outcome":"ok"'))).toBe(true);
    // The crash is logged on stderr with its stack, the password in its message scrubbed.
    expect(server.stderr()).toContain("ECONNREFUSED 10.0.0.7:5432 password=[redacted]");
    expect(server.stderr() + server.stdout()).not.toContain("hunter2");
    for (const line of logLines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it("prints --version and --help on stdout and exits 0", async () => {
    expect(await run(["--version"])).toEqual({ code: 0, stdout: "0.0.0\n", stderr: "" });
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--transport <stdio\|http>[\s\S]*TOOLSHED_TRANSPORT/);
  });

  it("answers a bad flag or env var with one clear line and exit code 2", async () => {
    const flag = await run(["--transport", "carrier-pigeon"]);
    expect(flag.code).toBe(2);
    expect(flag.stdout).toBe("");
    expect(flag.stderr.trim().split("\n")).toEqual([
      "toolshed-everything: invalid --transport 'carrier-pigeon': expected one of stdio, http (run toolshed-everything --help for the options)",
    ]);
    const env = await run([], { TOOLSHED_PORT: "eighty" });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^toolshed-everything: invalid TOOLSHED_PORT 'eighty': expected a number/);
    const unknown = await run(["--colour"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--colour'/);
  });
});

describe("HTTP binary start-up", () => {
  it("refuses HTTP beyond loopback without authentication, saying how to fix it", async () => {
    const res = await run(["--transport", "http", "--host", "0.0.0.0", "--port", "0"]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(
      /refusing to serve HTTP on 0\.0\.0\.0 without authentication: set TOOLSHED_API_KEYS/,
    );
  });

  it("answers bad auth settings with one line and exit code 2", async () => {
    const res = await run(["--transport", "http", "--port", "0", "--jwt-issuer", "https://issuer.example"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--jwt-issuer needs --jwt-audience/);
  });

  it("warns loudly when told to listen beyond loopback without authentication", async () => {
    const child = spawn(
      process.execPath,
      [BIN, "--transport", "http", "--host", "0.0.0.0", "--port", "0", "--insecure-no-auth"],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no warning: ${stderr}`)), 10_000);
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        if (stderr.includes("without authentication")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const warning = stderr.split("\n").find((l) => l.includes("without authentication"))!;
    expect(JSON.parse(warning)).toMatchObject({ level: "warn", host: "0.0.0.0" });
  });

  it("refuses to start when the configured Redis cannot be reached, saying what to do", async () => {
    const res = await run(["--transport", "http", "--port", "0", "--redis-url", "redis://:pw@127.0.0.1:1"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /^toolshed-everything: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1.*start Redis or unset TOOLSHED_REDIS_URL$/m,
    );
    expect(res.stderr).not.toContain(":pw@");
  });

  it("says in one line when the port is taken, and exits 1", async () => {
    const blocker = spawn(process.execPath, [BIN, "--transport", "http", "--port", "0"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    const port = await new Promise<string>((resolve) => {
      blocker.stderr.setEncoding("utf8").on("data", (d: string) => {
        log += d;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(log);
        if (m) resolve(m[1]!);
      });
    });
    try {
      const taken = await run(["--transport", "http", "--port", port]);
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain(`toolshed-everything: port ${port} is in use; pick another with --port`);
    } finally {
      blocker.kill("SIGTERM");
    }
  });
});

describe("HTTP binary shutdown", () => {
  it("lets a slow call finish on SIGTERM, then exits 0", async () => {
    const child = spawn(process.execPath, [BIN, "--transport", "http", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listen line: ${stderr}`)), 10_000);
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        const m = /listening on (http:\/\/\S+\/mcp)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const client = await connectHttpClient(url);
    const call = client.callTool({ name: "slow", arguments: { ms: 1_500 } });
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGTERM");
    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ steps: 10 });
    expect(await exited).toBe(0);
    expect(stderr).toContain('"msg":"shutting down"');
    await client.close().catch(() => {});
  });
});

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
