// One slow or hung upstream does not hold a stdio client's first message: the built gateway bin,
// driven by the real SDK client over real pipes, with three stdio upstreams: the kit fixture, the
// fixture started five seconds late, and a process that never answers. The gateway answers
// initialize after --start-wait-ms (here 3 s, by its environment variable) with the ready
// upstream's tools, the late one's join with tools/list_changed, and the log names what it waits for;
// closing it then ends the hung upstream's attempt at once.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recordChanges, spawnStdioServer, type StdioServerProcess } from "@toolshed/testing";
import { afterAll, expect, it, vi } from "vitest";
import { FIXTURE_BIN } from "./stack.js";

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "gateway-slow-upstream-"));
let gateway: StdioServerProcess | undefined;
/** The hung upstream's program, told apart from other processes by its odd delay. */
const HUNG = "setTimeout(() => {}, 120_017)";

/** Processes running the hung upstream's program (from /proc). */
function hungProcesses(): number {
  let n = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(HUNG)) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

afterAll(async () => {
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("answers initialize after the start wait with the upstreams that are up; a late one joins with tools/list_changed", async () => {
  const config = join(dir, "gateway.yaml");
  const node = JSON.stringify(process.execPath);
  const late = `setTimeout(() => import(${JSON.stringify(new URL(`file://${FIXTURE_BIN}`).href)}), 5000)`;
  writeFileSync(
    config,
    [
      "upstreams:",
      "  fx:",
      `    command: ${node}`,
      `    args: [${JSON.stringify(FIXTURE_BIN)}]`,
      "  late:",
      `    command: ${node}`,
      `    args: ["-e", ${JSON.stringify(late)}]`,
      "  hung:",
      `    command: ${node}`,
      `    args: ["-e", ${JSON.stringify(HUNG)}]`,
      "",
    ].join("\n"),
  );
  const started = Date.now();
  gateway = await spawnStdioServer(process.execPath, [BIN, "--config", config], {
    env: { TOOLSHED_GATEWAY_START_WAIT_MS: "3000", TOOLSHED_LOG_LEVEL: "info" },
  });
  const tookMs = Date.now() - started;
  // The hung upstream's first attempt lasts its whole connect timeout (30 s); initialize did not wait for it.
  expect(tookMs).toBeLessThan(20_000);
  const changes = recordChanges(gateway.client);
  const names = async () => (await gateway!.client.listTools()).tools.map((t) => t.name);
  const first = await names();
  expect(first).toContain("fx__echo");
  expect(first.some((n) => n.startsWith("hung__"))).toBe(false);
  expect(gateway.stderr()).toMatch(/still connecting after 3000 ms/);
  expect(gateway.stderr()).toMatch(/'hung'/);
  // The late one comes up (its first attempt waited for it) and its tools join, announced.
  await vi.waitFor(
    () => expect(changes.seen.map((c) => c.method)).toContain("notifications/tools/list_changed"),
    {
      timeout: 40_000,
      interval: 200,
    },
  );
  await vi.waitFor(async () => expect(await names()).toContain("late__echo"), { timeout: 10_000 });
  const echoed = await gateway.client.callTool({ name: "late__echo", arguments: { message: "joined" } });
  expect(echoed.isError).toBeFalsy();
  expect(JSON.stringify(echoed.content)).toContain("joined");
  expect(gateway.nonProtocolLines()).toEqual([]);
  // Closing does not wait out the hung upstream's connection attempt, and leaves no process behind.
  expect(hungProcesses()).toBeGreaterThan(0);
  const closing = Date.now();
  await gateway.close();
  gateway = undefined;
  expect(Date.now() - closing).toBeLessThan(5_000);
  await vi.waitFor(() => expect(hungProcesses()).toBe(0), { timeout: 5_000 });
});
