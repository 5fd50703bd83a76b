import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { createHttpClient, type HttpClient } from "@toolshed/http-client";
import { createLogger, REDACTED } from "@toolshed/logging";
import { defineServer, defineTool, z } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestClient, type TestClient } from "../src/index.js";

const TOKEN = "ghp_S3cretT0kenValue0123456789abcdef";
const QUERY_SECRET = "q-s3cret-value-777";

describe("secrets never reach a log line (tool -> http-client -> failing upstream)", () => {
  const lines: string[] = [];
  let t: TestClient;
  let upstream: ReturnType<typeof createServer>;
  let seenAuth = "";

  beforeAll(async () => {
    let calls = 0;
    upstream = createServer((req, res) => {
      seenAuth = req.headers.authorization ?? "";
      calls++;
      if (req.url?.startsWith("/reset")) return req.socket.destroy();
      if (req.url?.startsWith("/denied")) return res.writeHead(401).end(`bad token ${TOKEN}`);
      res
        .writeHead(500, { "content-type": "application/json" })
        .end(JSON.stringify({ error: "boom", calls }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const server = defineServer({
      name: "secrets-test",
      version: "1.0.0",
      setup: ({ metrics }) =>
        createHttpClient({
          name: "upstream",
          baseUrl: base,
          headers: { authorization: `Bearer ${TOKEN}` },
          allowPrivateNetwork: true,
          retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
          metrics,
        }),
      teardown: (http: HttpClient) => http.close(),
      tools: [
        defineTool({
          name: "fetch_thing",
          title: "Fetch a thing",
          description: "Fetches a thing from the upstream; used to drive upstream failures.",
          input: z.object({
            path: z.enum(["/reset", "/denied", "/fail"]).describe("Which failure to cause."),
          }),
          output: z.object({ ok: z.boolean() }),
          annotations: {
            readOnlyHint: true,
            destructiveHint: false,
            idempotentHint: true,
            openWorldHint: true,
          },
          handler: async ({ path }, ctx) => {
            ctx.log.info({ authorization: `Bearer ${TOKEN}`, path }, "calling upstream");
            await (ctx.deps as HttpClient).get(path, {
              query: { access_token: QUERY_SECRET },
              signal: ctx.signal,
            });
            return { ok: true };
          },
        }),
      ],
    });
    const logger = createLogger({
      name: "secrets-test",
      level: "trace",
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(...chunk.toString().split("\n").filter(Boolean));
          cb();
        },
      }),
    });
    t = await createTestClient(server, { logger });
  });
  afterAll(async () => {
    await t.close();
    upstream.close();
  });

  it("keeps the token and query secrets out of results and every log line", async () => {
    await t.client.setLoggingLevel("debug");
    const results = [];
    for (const path of ["/reset", "/denied", "/fail"]) {
      results.push(await t.client.callTool({ name: "fetch_thing", arguments: { path } }));
    }
    expect(seenAuth).toBe(`Bearer ${TOKEN}`); // the upstream did get the credential
    for (const r of results) expect(r.isError).toBe(true);
    const everything = JSON.stringify(results) + "\n" + lines.join("\n");
    expect(lines.length).toBeGreaterThan(3);
    // The handler's own line reached the log with its fields: the secret one redacted, not dropped.
    const own = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === "calling upstream");
    expect(own.map((l) => [l.path, l.authorization])).toEqual([
      ["/reset", REDACTED],
      ["/denied", REDACTED],
      ["/fail", REDACTED],
    ]);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(QUERY_SECRET);
    // The upstream's metrics landed on the server's registry.
    expect(await t.runtime.metrics.render()).toMatch(
      /toolshed_upstream_request_duration_seconds_count\{[^}]*upstream="upstream"/,
    );
  });
});
