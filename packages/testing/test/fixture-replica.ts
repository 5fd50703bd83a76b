import { fileURLToPath } from "node:url";
import { startServerProcess, type ServerProcess } from "../src/server-process.js";

// The kit's fixture server as a process of its own: one replica of a deployment.
const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

export type Replica = ServerProcess;

/** Starts the fixture on HTTP on a free port; resolves once it logs the URL it listens on. */
export function startReplica(env: Record<string, string> = {}): Promise<Replica> {
  return startServerProcess(BIN, { env });
}
