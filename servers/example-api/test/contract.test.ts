import { createTestClient } from "@toolshed/testing";
import { runContractTests } from "@toolshed/testing/contract";
import { format } from "prettier";
import { expect, it, vi } from "vitest";
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

it("keeps tool names, descriptions and schemas stable (snapshot)", async () => {
  const t = await createTestClient(server, { config });
  try {
    const { tools } = await t.client.listTools();
    // Formatted as Prettier would, so `prettier --check` and the snapshot agree.
    const text = await format(JSON.stringify(tools), { parser: "json", printWidth: 110 });
    await expect(text).toMatchFileSnapshot("__snapshots__/tools.json");
  } finally {
    await t.close();
  }
});
