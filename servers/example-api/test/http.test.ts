// The same server over Streamable HTTP on loopback (real SDK client, real sockets both sides), with
// a secret-carrying config: the credential reaches the API and never a log line or a result.
import { Writable } from "node:stream";
import { createLogger } from "@toolshed/logging";
import { startTestHttpServer, type TestHttpServer } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { configSchema } from "../src/generated/config.js";
import server from "../src/server.js";
import { startUpstream, TOKEN } from "./helpers.js";

// Real processes and servers: generous limits for a loaded CI machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let http: TestHttpServer;
const logLines: string[] = [];
beforeAll(async () => {
  upstream = await startUpstream();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  http = await startTestHttpServer(
    server,
    {},
    {
      config: configSchema.parse({ baseUrl: upstream.url, exampleApiApiKey: TOKEN }),
      logger: createLogger({ name: "example-api", level: "debug", destination: sink }),
    },
  );
});
afterAll(async () => {
  await http?.close();
  await upstream?.close();
});

it("creates and reads resources over HTTP, and keeps the credential out of logs and results", async () => {
  const client = await http.connect();
  try {
    const created = (await client.callTool({
      name: "create_resource",
      arguments: { name: "Over HTTP" },
    })) as unknown as {
      structuredContent: { id: string };
    };
    const got = (await client.callTool({
      name: "get_resource",
      arguments: { id: created.structuredContent.id },
    })) as unknown as {
      structuredContent: { name: string };
      content: unknown;
    };
    expect(got.structuredContent.name).toBe("Over HTTP");
    const missing = await client.callTool({ name: "get_resource", arguments: { id: "nope" } });
    expect(missing.isError).toBe(true);
    expect(JSON.stringify([created, got, missing])).not.toContain(TOKEN);
  } finally {
    await client.close();
  }
  expect(logLines.length).toBeGreaterThan(0);
  expect(logLines.join("")).toContain("get_resource"); // the calls were logged at debug ...
  expect(logLines.join("")).not.toContain(TOKEN); // ... without the credential
});
