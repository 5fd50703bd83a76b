// example-api: ids that try to move a call off its resource path.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExampleApi } from "@toolshed/example-api-upstream";
import { request } from "undici";
import { refusedAll } from "./attacks.js";
import type { Attack } from "./types.js";
import { startServer } from "./processes.js";
import { callTool, openSession } from "./raw-http.js";

/** Ids that try to move a call off `/resources/<id>`: traversal, separators, query, fragment, URLs. */
const HOSTILE_IDS = [
  "../admin",
  "..%2f..",
  "..%2F..%2Fhealthz",
  "a/b",
  "x?y=1",
  "x#frag",
  "//evil.example/x",
  "%2e%2e",
  "%2E%2E%2Fadmin",
  ".",
  "..",
  ".%2e",
  "..\\admin",
  "http://169.254.169.254/",
  "@evil.example",
  "x/../../openapi.yaml",
  "a%00b",
  "\u2025",
];

/**
 * example-api: every path parameter lands in one encoded segment. The attack runs the server on an
 * Example API of its own whose listener records each request's raw method and path; each hostile id
 * through get_resource, update_resource and delete_resource must reach exactly
 * `<METHOD> /resources/<encodeURIComponent(id)>` (no query, nothing after) or be refused before any
 * request. A resource created beforehand must survive ids built to reach it by traversal.
 */
export const exampleApiAttacks: readonly Attack[] = [
  {
    name: "path parameters cannot move a call to another path or host (../, %2f, ?, #, //host, URLs)",
    run: async (ctx) => {
      const dir = mkdtempSync(join(tmpdir(), "toolshed-attack-example-api-"));
      const token = randomBytes(16).toString("hex");
      const api = await createExampleApi({ dataFile: join(dir, "resources.json"), tokens: [token] });
      const seen: string[] = [];
      const handlers = api.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
      api.removeAllListeners("request");
      api.on("request", (req: IncomingMessage, res: ServerResponse) => {
        seen.push(`${req.method} ${req.url}`);
        for (const handler of handlers) handler.call(api, req, res);
      });
      await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
      const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
      const server = await startServer(ctx.target, {
        env: { EXAMPLE_API_BASE_URL: base, EXAMPLE_API_BEARER_TOKEN: token },
      });
      try {
        const upstream = async (method: "GET" | "POST", path: string, body?: unknown) => {
          const res = await request(`${base}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          return { status: res.statusCode, body: await res.body.text() };
        };
        const created = await upstream("POST", "/resources", { name: "victim" });
        const victim = (JSON.parse(created.body) as { id?: string }).id;
        if (created.status !== 201 || !victim) {
          return { refused: false, detail: `could not create the victim: HTTP ${created.status}` };
        }
        seen.length = 0;
        const url = `${server.base}/mcp`;
        const session = await openSession(url, {});
        const ids = [
          ...HOSTILE_IDS,
          `../resources/${victim}`,
          `x/../${victim}`,
          `x%2f..%2f${victim}`,
          `${victim}/..`,
          `${victim}?x=1`,
          `${victim}#x`,
        ];
        const tools: [string, string, Record<string, unknown>][] = [
          ["get_resource", "GET", {}],
          ["update_resource", "PUT", { name: "pwned" }],
          ["delete_resource", "DELETE", {}],
        ];
        const results = [];
        let reached = 0;
        let id = 500;
        for (const hostile of ids) {
          for (const [tool, method, extra] of tools) {
            const mark = seen.length;
            const r = await callTool(url, session.headers, id++, tool, { id: hostile, ...extra });
            const requests = seen.slice(mark);
            const expected = `${method} /resources/${encodeURIComponent(hostile)}`;
            reached += requests.length > 0 ? 1 : 0;
            results.push({
              what: `${tool} ${JSON.stringify(hostile)}`,
              isError: r.isError,
              text: requests.length
                ? `upstream saw ${requests.join(", ")}`
                : `refused before any request: ${r.text}`,
              // Landed on its own one-segment path (retries included), or refused with nothing sent.
              ok: requests.length > 0 ? requests.every((q) => q === expected) : r.isError,
            });
          }
        }
        // The check would be vacuous if every call were refused before reaching the upstream.
        results.push({
          what: "most hostile ids reached the upstream, as one segment",
          isError: false,
          text: `${reached} of ${results.length} calls sent a request`,
          ok: reached >= results.length / 2,
        });
        const still = await upstream("GET", `/resources/${victim}`);
        results.push({
          what: "the victim resource is untouched",
          isError: false,
          text: `HTTP ${still.status} ${still.body.slice(0, 80)}`,
          ok: still.status === 200 && (JSON.parse(still.body) as { name?: string }).name === "victim",
        });
        const direct = seen.filter((q) => !/^(GET|PUT|DELETE) \/resources\/[^/?#]+$/.test(q));
        results.push({
          what: "every request the upstream saw was on /resources/<one segment>",
          isError: false,
          text: direct.length ? direct.join(", ") : `${seen.length} requests, all on /resources/<id>`,
          ok: direct.length === 0,
        });
        return refusedAll(results);
      } finally {
        await server.stop("SIGTERM");
        api.closeAllConnections();
        await new Promise((resolve) => api.close(resolve));
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
