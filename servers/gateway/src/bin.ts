#!/usr/bin/env node
import { main } from "@toolshed/server";
import { loadGatewayFile } from "./config.js";
import gatewayServer from "./server.js";

// An unreadable or invalid config file is a usage error said in one line before anything starts
// (no config at all is fine: the gateway starts with no upstreams); the kit parses every other flag.
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
  if (path) {
    try {
      loadGatewayFile(path);
    } catch (err) {
      process.stderr.write(`toolshed-gateway: ${(err as Error).message}\n`);
      process.exit(2);
    }
  }
}
main(gatewayServer);
