// Parameter serialisation by style and explode. Directus' published description (@directus/specs,
// from npm) declares `fields` as style form, explode false: a list goes out as one comma-joined value.
// No description on npm we found uses deepObject, pipeDelimited or label, so those are written here
// after the OpenAPI specification's own style examples. A loopback upstream records the URLs.
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { createTestClient, type TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generate } from "../src/generate.js";
import { tempServerDir } from "./helpers.js";

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const require = createRequire(import.meta.url);
const DIRECTUS = join(dirname(require.resolve("@directus/specs")), "dist/openapi.json");

const urls: string[] = [];
let upstream: Server;
let base: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    urls.push(req.url!);
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"data":[]}'));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- results are read by the assertions
type Result = { isError?: boolean; structuredContent?: any; content: { text?: string }[] };

async function clientFor(document: string, name: string, dir: string, include: string[]) {
  await generate({ document, outDir: dir, name, include });
  const mod = (await import(join(dir, "src/server.ts"))) as {
    default: Parameters<typeof createTestClient>[0];
    settingsSchema: { parse(v: unknown): unknown };
  };
  return createTestClient(mod.default, {
    config: mod.settingsSchema.parse({ baseUrl: base, allowPrivateNetwork: true }),
  });
}

describe("Directus' form, explode: false list", () => {
  const tmp = tempServerDir("style-directus");
  let t: TestClient;
  beforeAll(async () => {
    t = await clientFor(DIRECTUS, "directus", tmp.dir, ["getItems"]);
  });
  afterAll(async () => {
    await t?.close();
    tmp.cleanup();
  });

  it("sends the list as one comma-joined value, and offers answer selection beside it", async () => {
    urls.length = 0;
    const r = (await t.client.callTool({
      name: "get_items",
      arguments: { collection: "articles", fields: ["title", "author.name"], limit: 5 },
    })) as unknown as Result;
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const url = new URL(urls[0]!, base);
    expect(url.pathname).toBe("/items/articles");
    expect(url.searchParams.getAll("fields")).toEqual(["title,author.name"]);
    expect(url.searchParams.get("limit")).toBe("5");
    const { tools } = await t.client.listTools();
    expect(Object.keys(tools[0]!.inputSchema.properties ?? {})).toContain("select_fields");
  });
});

const STYLES = {
  openapi: "3.0.3",
  info: { title: "Styles", version: "1" },
  paths: {
    "/colors/{ids}": {
      get: {
        operationId: "getColors",
        parameters: [
          {
            name: "ids",
            in: "path",
            required: true,
            style: "label",
            schema: { type: "array", items: { type: "integer" } },
          },
          {
            name: "filter",
            in: "query",
            style: "deepObject",
            explode: true,
            schema: { type: "object", properties: { R: { type: "integer" }, G: { type: "integer" } } },
          },
          {
            name: "tags",
            in: "query",
            style: "pipeDelimited",
            explode: false,
            schema: { type: "array", items: { type: "string" } },
          },
          { name: "X-Ids", in: "header", schema: { type: "array", items: { type: "integer" } } },
        ],
        responses: {
          "200": { description: "ok", content: { "application/json": { schema: { type: "object" } } } },
        },
      },
    },
  },
};

describe("deepObject, pipeDelimited, label and header lists", () => {
  const tmp = tempServerDir("style-spec");
  let t: TestClient;
  const headers: string[] = [];
  beforeAll(async () => {
    const doc = join(tmp.dir, "styles.json");
    writeFileSync(doc, JSON.stringify(STYLES));
    t = await clientFor(doc, "styles", tmp.dir, ["getColors"]);
    upstream.on("request", (req) => headers.push(String(req.headers["x-ids"])));
  });
  afterAll(async () => {
    await t?.close();
    tmp.cleanup();
  });

  it("serialises each parameter by its style", async () => {
    urls.length = 0;
    const r = (await t.client.callTool({
      name: "get_colors",
      arguments: { ids: [3, 4], filter: { R: 100, G: 200 }, tags: ["a", "b"], x_ids: [1, 2] },
    })) as unknown as Result;
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const url = new URL(urls[0]!, base);
    expect(url.pathname).toBe("/colors/.3,4");
    expect(url.searchParams.get("filter[R]")).toBe("100");
    expect(url.searchParams.get("filter[G]")).toBe("200");
    expect(url.searchParams.getAll("tags")).toEqual(["a|b"]);
    expect(headers.at(-1)).toBe("1,2");
  });
});

// Operation-level servers: GitHub's upload-release-asset names uploads.github.com; here a document
// written after that pattern names the loopback upstream, its document-level server a dead port.
describe("an operation's own server", () => {
  const tmp = tempServerDir("servers");
  const mod = async (dir: string) =>
    (await import(join(dir, "src/server.ts"))) as {
      default: Parameters<typeof createTestClient>[0];
      settingsSchema: { parse(v: unknown): unknown };
    };
  afterAll(() => tmp.cleanup());

  it("is called while baseUrl is the document's, and yields to a baseUrl pointed elsewhere", async () => {
    const doc = join(tmp.dir, "servers.json");
    writeFileSync(
      doc,
      JSON.stringify({
        openapi: "3.0.3",
        info: { title: "Servers", version: "1" },
        servers: [{ url: "http://127.0.0.1:9/api" }],
        paths: {
          "/things": {
            post: {
              operationId: "uploadThing",
              servers: [{ url: "{origin}/uploads", variables: { origin: { default: base } } }],
              responses: { "204": { description: "ok" } },
            },
          },
        },
      }),
    );
    await generate({ document: doc, outDir: tmp.dir, name: "servers" });
    const m = await mod(tmp.dir);
    const own = await createTestClient(m.default, { config: m.settingsSchema.parse({}) });
    const elsewhere = await createTestClient(m.default, {
      config: m.settingsSchema.parse({ baseUrl: `${base}/proxy` }),
    });
    try {
      urls.length = 0;
      const a = (await own.client.callTool({ name: "upload_thing", arguments: {} })) as unknown as Result;
      expect(a.isError, a.content[0]?.text).toBeFalsy();
      const b = (await elsewhere.client.callTool({
        name: "upload_thing",
        arguments: {},
      })) as unknown as Result;
      expect(b.isError, b.content[0]?.text).toBeFalsy();
      expect(urls).toEqual(["/uploads/things", "/proxy/things"]);
    } finally {
      await Promise.all([own.close(), elsewhere.close()]);
    }
  });

  it("is read from GitHub's description (uploads.github.com) and allowed as a host", async () => {
    const gh = join(
      dirname(require.resolve("@octokit/openapi/package.json")),
      "generated/api.github.com.json",
    );
    const out = join(tmp.dir, "gh");
    await generate({
      document: gh,
      outDir: out,
      name: "gh",
      include: ["repos/upload-release-asset", "repos/get"],
    });
    const { generatedTools } = (await import(join(out, "src/generated/tools.ts"))) as {
      generatedTools: { name: string }[];
    };
    const { api } = (await import(join(out, "src/generated/config.ts"))) as {
      api: { serverHosts: string[]; defaultBaseUrl: string };
    };
    expect(generatedTools.map((x) => x.name)).toEqual(["repos_get", "repos_upload_release_asset"]);
    expect(api).toMatchObject({
      serverHosts: ["uploads.github.com"],
      defaultBaseUrl: "https://api.github.com",
    });
  });
});
