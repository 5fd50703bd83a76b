#!/usr/bin/env node
// The Example API on node:http: `example-api-upstream [--port 4010] [--host 127.0.0.1] [--data-file f] [--token t]`.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { createExampleApi } from "./app.js";

const log = (msg: string, extra: Record<string, unknown> = {}) =>
  process.stderr.write(
    JSON.stringify({ time: new Date().toISOString(), name: "example-api-upstream", msg, ...extra }) + "\n",
  );

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "data-file": { type: "string" },
      token: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stderr.write(
      "example-api-upstream: the Example API (see openapi.yaml)\n" +
        "  --port <n>        [EXAMPLE_API_PORT] default 4010\n" +
        "  --host <addr>     [EXAMPLE_API_HOST] default 127.0.0.1\n" +
        "  --data-file <f>   [EXAMPLE_API_DATA_FILE] default ./data/example-api.json\n" +
        "  --token <t,t2>    [EXAMPLE_API_TOKEN] accepted credentials (Bearer or X-API-Key)\n",
    );
    return;
  }
  const env = process.env;
  const port = Number(values.port ?? env.EXAMPLE_API_PORT ?? 4010);
  const host = values.host ?? env.EXAMPLE_API_HOST ?? "127.0.0.1";
  const dataFile = values["data-file"] ?? env.EXAMPLE_API_DATA_FILE ?? "./data/example-api.json";
  let tokens = (values.token ?? env.EXAMPLE_API_TOKEN ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (tokens.length === 0) {
    tokens = [randomBytes(16).toString("hex")];
    log("no EXAMPLE_API_TOKEN set: generated a token for this run only; set one to call the API", {
      hint: "EXAMPLE_API_TOKEN=<token>",
    });
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port '${port}'`);
  const server = await createExampleApi({ dataFile, tokens, onError: (m) => log(m) });
  server.listen(port, host, () => {
    const address = server.address();
    const bound = typeof address === "object" && address ? address.port : port;
    log("listening", { url: `http://${host}:${bound}`, dataFile });
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err: unknown) => {
  log("failed to start", { error: (err as Error).message });
  process.exit(1);
});
