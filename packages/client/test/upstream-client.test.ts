// The client against real servers: the kit's fixture spawned over stdio (both eras) and served over
// HTTP on loopback; era verdict kept across a restart, progress, cancellation, failing fast when down.
import { fileURLToPath } from "node:url";
import everything from "@toolshed/fixture-everything";
import { createLogger } from "@toolshed/logging";
import { startHttpServer } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { UpstreamClient, type ProtocolChoice, type UpstreamTarget } from "../src/index.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const FIXTURE_BIN = fileURLToPath(new URL("../../testing/fixtures/everything/dist/bin.js", import.meta.url));
const logger = createLogger({ name: "client-test", level: "silent" });

function client(target: UpstreamTarget, protocol: ProtocolChoice = "auto"): UpstreamClient {
  return new UpstreamClient("fx", { logger, target: () => target, protocol, timeoutMs: 20_000 });
}

const text = (r: { content: unknown[] }) =>
  (r.content as { text?: string }[]).map((c) => c.text ?? "").join("\n");

describe.each([
  ["auto", "modern"],
  ["2025", "legacy"],
] as const)("over stdio, protocol %s", (protocol, era) => {
  let up: UpstreamClient;
  beforeAll(async () => {
    up = client({ command: process.execPath, args: [FIXTURE_BIN] }, protocol);
    await up.start();
  });
  afterAll(() => up.close(1_000));

  it(`connects on the ${era} era, lists and calls tools`, async () => {
    expect(up.state).toBe("ready");
    expect(up.era).toBe(era);
    expect(up.prior?.kind).toBe(era);
    expect(up.tools.map((t) => t.name)).toContain("echo");
    const result = await up.callTool("echo", { message: "hi" }, { signal: new AbortController().signal });
    expect(text(result)).toContain("hi");
  });

  it("passes progress through and cancels on the caller's signal", async () => {
    const seen: number[] = [];
    await up.callTool(
      "slow",
      { ms: 200 },
      { signal: new AbortController().signal, onprogress: (p) => seen.push(p.progress) },
    );
    // The last notification may trail the result on the 2025 stream; the first ones are there.
    expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
    const abort = new AbortController();
    const pending = up.callTool("slow", { ms: 60_000 }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    await expect(pending).rejects.toThrow(/cancelled/);
    // A cancelled call is the caller's doing: the upstream stays up.
    expect(up.state).toBe("ready");
  });
});

it("restarts a killed stdio child, keeping its era verdict", async () => {
  const up = client({ command: process.execPath, args: [FIXTURE_BIN] });
  try {
    await up.start();
    const prior = up.prior;
    const pid = up.pid!;
    process.kill(pid, "SIGKILL");
    await vi.waitFor(() => expect(up.state).not.toBe("ready"), { timeout: 10_000 });
    await vi.waitFor(() => expect(up.state).toBe("ready"), { timeout: 20_000 });
    expect(up.pid).not.toBe(pid);
    expect(up.restarts).toBe(1);
    expect(up.prior).toStrictEqual(prior);
    expect(up.era).toBe("modern");
  } finally {
    await up.close(1_000);
  }
});

it("speaks Streamable HTTP, and fails fast, naming the upstream, once it is gone", async () => {
  const server = await startHttpServer(everything, {}, { logLevel: "silent" });
  const up = client({ url: server.url });
  try {
    await up.start();
    expect(up.state).toBe("ready");
    const result = await up.readResource(up.resources[0]!.uri, { signal: new AbortController().signal });
    expect(result.contents.length).toBeGreaterThan(0);
    await server.close();
    await expect(
      up.callTool("echo", { message: "x" }, { signal: new AbortController().signal }),
    ).rejects.toThrow(/upstream 'fx' is unavailable/);
    expect(up.state).toBe("down");
  } finally {
    await up.close(1_000);
  }
});

it("marks the upstream down with the target's own error when it cannot be resolved", async () => {
  const up = new UpstreamClient("secretive", {
    logger,
    target: () => {
      throw new Error("upstream 'secretive' bearer: set SECRET_TOKEN");
    },
  });
  try {
    await up.start();
    expect(up.state).toBe("down");
    expect(up.reason).toContain("set SECRET_TOKEN");
  } finally {
    await up.close(1_000);
  }
});
