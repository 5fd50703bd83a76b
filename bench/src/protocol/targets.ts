import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { serverEnv, trackChild, untrackChild } from "../lib/children.js";
import { freePort, waitForPort } from "../lib/net.js";
import { withTimeout } from "../lib/timeout.js";

export type Side = "kit" | "sdk";
export type TransportKind = "http" | "stdio";

/** A running server child process and the SDK clients connected to it. */
export interface Target {
  readonly side: Side;
  readonly transport: TransportKind;
  readonly pid: number;
  readonly clients: readonly Client[];
  /** Bytes the server wrote to stderr so far (its log; drained by us so it never blocks). */
  stderrBytes(): number;
  close(): Promise<void>;
}

/** The server scripts: the kit fixture's bin (logging and metrics on) and the bare-SDK baseline. */
export function serverScript(side: Side): string {
  if (side === "kit") {
    // The fixture exports its server module; the bin sits beside it in dist/.
    return fileURLToPath(new URL("./bin.js", import.meta.resolve("@toolshed/fixture-everything")));
  }
  return fileURLToPath(new URL("../baseline/sdk-server.js", import.meta.url));
}

const CLIENT_INFO = { name: "toolshed-bench", version: "0.0.0" };
const START_TIMEOUT_MS = 15_000;

export async function startStdio(side: Side): Promise<Target> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverScript(side)],
    env: serverEnv(),
    stderr: "pipe",
  });
  let stderr = 0;
  transport.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.length));
  // Track the child as soon as it exists, so that a hung initialize cannot leak it.
  const start = transport.start.bind(transport);
  transport.start = async () => {
    await start();
    trackChild(transport.pid!);
  };
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  await withTimeout(client.connect(transport), START_TIMEOUT_MS, `${side} stdio server did not initialize`);
  const pid = transport.pid!;
  return {
    side,
    transport: "stdio",
    pid,
    clients: [client],
    stderrBytes: () => stderr,
    async close() {
      // Ends stdin, then SIGTERM and SIGKILL after 2 s each if the server lingers.
      await client.close();
      untrackChild(pid);
    },
  };
}

export async function startHttp(side: Side, sessions: number): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [serverScript(side), "--transport", "http", "--port", String(port)], {
    env: serverEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the ${side} http server`);
  trackChild(pid);
  let stderr = 0;
  let tail = "";
  child.stdout.resume();
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.length;
    tail = (tail + chunk.toString("utf8")).slice(-2000);
  });
  const exited = once(child, "exit");
  const died = exited.then(([code]) => {
    throw new Error(`the ${side} http server exited with code ${String(code)}: ${tail}`);
  });
  died.catch(() => {}); // only awaited while starting; a later exit is the close we asked for
  try {
    await Promise.race([waitForPort(port, START_TIMEOUT_MS), died]);
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    const clients = await Promise.all(
      Array.from({ length: sessions }, async () => {
        const client = new Client(CLIENT_INFO, { capabilities: {} });
        await withTimeout(
          client.connect(new StreamableHTTPClientTransport(url)),
          START_TIMEOUT_MS,
          `${side} http server did not initialize`,
        );
        return client;
      }),
    );
    return {
      side,
      transport: "http",
      pid,
      clients,
      stderrBytes: () => stderr,
      async close() {
        await Promise.allSettled(clients.map((c) => c.close()));
        await stopChild();
      },
    };
  } catch (err) {
    await stopChild();
    throw err;
  }

  async function stopChild(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited.catch(() => {});
      clearTimeout(timer);
    }
    untrackChild(pid!);
  }
}
