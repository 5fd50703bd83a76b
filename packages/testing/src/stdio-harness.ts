import { spawn, type ChildProcess } from "node:child_process";
import {
  Client,
  parseJSONRPCMessage,
  type ClientCapabilities,
  type JSONRPCMessage,
  type Transport,
} from "@modelcontextprotocol/client";
import { versionNegotiation, type Era } from "./era.js";

export interface StdioServerProcess {
  client: Client;
  child: ChildProcess;
  /** Every byte the server wrote to stdout, as received. */
  stdout(): string;
  /** Everything it wrote to stderr. */
  stderr(): string;
  /** Lines of stdout that are not JSON-RPC messages (should be none). */
  nonProtocolLines(): string[];
  /** Closes stdin and waits for the process to exit; resolves with its exit code. */
  close(): Promise<number | null>;
}

/**
 * Spawns a server binary and drives it with the real SDK client over real pipes, recording stdout
 * and stderr so a test can check that stdout carries protocol only.
 */
export async function spawnStdioServer(
  command: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; era?: Era; capabilities?: ClientCapabilities } = {},
): Promise<StdioServerProcess> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const transport = new PipeTransport(child, (chunk) => (out += chunk));
  const client = new Client(
    { name: "toolshed-stdio-test", version: "0.0.0" },
    { capabilities: options.capabilities ?? {}, ...versionNegotiation(options.era ?? "legacy") },
  );
  await client.connect(transport);
  return {
    client,
    child,
    stdout: () => out,
    stderr: () => err,
    nonProtocolLines: () =>
      out
        .split("\n")
        .filter((line) => line.length > 0)
        .filter((line) => {
          try {
            parseJSONRPCMessage(JSON.parse(line));
            return false;
          } catch {
            return true;
          }
        }),
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A client transport over a child's pipes that also records every stdout byte. */
class PipeTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #buffer = "";

  constructor(
    private readonly child: ChildProcess,
    private readonly record: (chunk: string) => void,
  ) {}

  start(): Promise<void> {
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      this.record(chunk);
      this.#buffer += chunk;
      let nl: number;
      while ((nl = this.#buffer.indexOf("\n")) !== -1) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(nl + 1);
        if (!line) continue;
        try {
          this.onmessage?.(parseJSONRPCMessage(JSON.parse(line)));
        } catch (e) {
          this.onerror?.(e as Error);
        }
      }
    });
    this.child.once("exit", () => this.onclose?.());
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.child.stdin!.write(`${JSON.stringify(message)}\n`, (e) => (e ? reject(e) : resolve()));
    });
  }

  close(): Promise<void> {
    this.child.stdin!.end();
    return Promise.resolve();
  }
}
