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
    await server.client.callTool({ name: "slow", arguments: { ms: 50 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(progress).toHaveLength(10);
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
