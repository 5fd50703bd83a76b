// example-api for the reliability suites, with its real upstream: the Example API runs in this same
// process on a loopback port (data in a temp dir, a fresh token), then the server's own bin starts
// with EXAMPLE_API_BASE_URL and EXAMPLE_API_BEARER_TOKEN pointing at it. A request whose URL carries
// `slow-<ms>` (e.g. a search for "slow-1500") is answered that much later (slow-upstream.ts), for
// the fault suites' slow call. When EXAMPLE_API_BASE_URL is already set (an attack's own recording
// upstream), that one is used and none is started. The upstream writes nothing to stdout, so a stdio
// run still carries protocol only.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExampleApi } from "@toolshed/example-api-upstream";
import { listenBesideServerPort } from "../lib/net.js";
import { delayMarkedRequests } from "./slow-upstream.js";

if (!process.env.EXAMPLE_API_BASE_URL) {
  const dir = mkdtempSync(join(tmpdir(), "toolshed-reliability-example-api-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const token = randomBytes(16).toString("hex");
  const api = await createExampleApi({ dataFile: join(dir, "resources.json"), tokens: [token] });
  delayMarkedRequests(api);
  const port = await listenBesideServerPort(api); // never the MCP server's own --port
  api.unref(); // the server's shutdown decides when the process ends
  process.env.EXAMPLE_API_BASE_URL = `http://127.0.0.1:${port}`;
  process.env.EXAMPLE_API_BEARER_TOKEN = token;
}
// Same depth in src/ and dist/, so the path holds for vitest and the built CLI.
await import(new URL("../../node_modules/@toolshed/server-example-api/dist/bin.js", import.meta.url).href);
