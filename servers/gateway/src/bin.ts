#!/usr/bin/env node
import { main } from "@toolshed/server";
import { loadGatewayFile } from "./config.js";
import gatewayServer from "./server.js";

// A missing or invalid config file is a usage error said in one line before anything starts; the
// kit parses every other flag.
const argv = process.argv.slice(2);
const asked = argv.some((a) => a === "--help" || a === "-h" || a === "--version");
if (!asked) {
  const at = argv.findIndex((a) => a === "--config" || a.startsWith("--config="));
  const path =
    at < 0
      ? (process.env.TOOLSHED_CONFIG ?? process.env.TOOLSHED_GATEWAY_CONFIG)
      : argv[at]!.includes("=")
        ? argv[at]!.slice("--config=".length)
        : argv[at + 1];
  if (!path) {
    process.stderr.write(
      "toolshed-gateway: no config: pass --config gateway.yaml or set TOOLSHED_GATEWAY_CONFIG (run toolshed-gateway --help for the options)\n",
    );
    process.exit(2);
  }
  try {
    loadGatewayFile(path);
  } catch (err) {
    process.stderr.write(`toolshed-gateway: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
main(gatewayServer);
