import { expectToolsSnapshot, runContractTests } from "@toolshed/testing/contract";
import { it, vi } from "vitest";
import { configSchema } from "../src/generated/config.js";
import server from "../src/server.js";

// Real processes and servers: generous limits for a loaded CI machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

// Port 9 on loopback refuses connections at once: no call in the contract reaches a real API.
const config = configSchema.parse({ baseUrl: "http://127.0.0.1:9" });

runContractTests(server, {
  tools: [
    "list_resources",
    "create_resource",
    "get_resource",
    "update_resource",
    "delete_resource",
    "search_resources",
  ],
  config,
});

it("keeps tool names, descriptions and schemas stable (snapshot)", () =>
  expectToolsSnapshot(server, { config }));
