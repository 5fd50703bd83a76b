import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Client, StreamableHTTPClientTransport, type ClientOptions } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { serverEnv, trackChild, untrackChild } from "../lib/children.js";
import { freePort, waitForPort } from "../lib/net.js";
import { withTimeout } from "../lib/timeout.js";

export type Side = "kit" | "bare";
export type TransportKind = "http" | "stdio";
/** The protocol era a target's clients speak: 2026-07-28 (stateless) or 2025-11-25 (initialize, sessions). */
export type Era = "2026" | "2025";

/** A running server child process and the SDK clients connected to it in one era. */
export interface Target {
  readonly side: Side;
  readonly transport: TransportKind;
  readonly era: Era;
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

/** The real SDK v2 client, pinned to 2026-07-28 or speaking the 2025 initialize handshake. */
function newClient(era: Era): Client {
  const options: ClientOptions = { capabilities: {} };
  if (era === "2026") options.versionNegotiation = { mode: { pin: "2026-07-28" } };
  return new Client(CLIENT_INFO, options);
}

/** One stdio child per era: the era of a pipe is pinned by its opening message. */
export async function startStdio(side: Side, era: Era): Promise<Target> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverScript(side)],
    env: serverEnv(),
    stderr: "pipe",
  });
  let stderr = 0;
  transport.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.length));
  // Track the child as soon as it exists, so that a hung opening cannot leak it.
  const start = transport.start.bind(transport);
  transport.start = async () => {
    await start();
    trackChild(transport.pid!);
  };
  const client = newClient(era);
  await withTimeout(client.connect(transport), START_TIMEOUT_MS, `${side} stdio server did not answer`);
  expectEra(client, era, `${side} stdio`);
  const pid = transport.pid!;
  return {
    side,
    transport: "stdio",
    era,
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

/** A running HTTP server child; both eras are served on its one /mcp endpoint. */
export interface HttpServer {
  readonly side: Side;
  readonly pid: number;
  readonly url: URL;
  stderrBytes(): number;
  /** `clients` SDK clients of `era` on this server: sessions on 2025, plain clients on 2026. */
  target(era: Era, clients: number): Promise<Target>;
  close(): Promise<void>;
}

export async function startHttp(side: Side): Promise<HttpServer> {
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
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  const opened: Client[] = [];
  const stopChild = async (): Promise<void> => {
    await Promise.allSettled(opened.map((c) => c.close()));
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited.catch(() => {});
      clearTimeout(timer);
    }
    untrackChild(pid);
  };
  try {
    await Promise.race([waitForPort(port, START_TIMEOUT_MS), died]);
  } catch (err) {
    await stopChild();
    throw err;
  }
  const stderrBytes = () => stderr;
  return {
    side,
    pid,
    url,
    stderrBytes,
    async target(era, count) {
      const clients = await Promise.all(
        Array.from({ length: count }, async () => {
          const client = newClient(era);
          await withTimeout(
            client.connect(new StreamableHTTPClientTransport(url)),
            START_TIMEOUT_MS,
            `${side} http server did not answer the ${era} opening`,
          );
          expectEra(client, era, `${side} http`);
          opened.push(client);
          return client;
        }),
      );
      // The clients close with the server; a target's close is for the server's owner.
      return { side, transport: "http", era, pid, clients, stderrBytes, close: async () => {} };
    },
    close: stopChild,
  };
}

function expectEra(client: Client, era: Era, what: string): void {
  const got = client.getProtocolEra();
  const want = era === "2026" ? "modern" : "legacy";
  if (got !== want) throw new Error(`${what}: the ${era} client connected in the ${String(got)} era`);
}
