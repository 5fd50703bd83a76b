// Parameter serialisation by style and explode, on published documents from npm: Directus' description
// (@directus/specs) declares `fields` as style form, explode false (a list goes out as one comma-joined
// value); ReadMe's conformance document (@readme/oas-examples) has every other style. A loopback
// upstream records the URLs and headers.
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
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

// ReadMe's published conformance document for parameter serialisation (@readme/oas-examples, from npm):
// one operation per style and explode, each with a primitive, an array and an object parameter. The
// expected URLs and headers are the OpenAPI specification's own style table, with its R/G/B object
// (keys the document's object schema does not list, which it allows and which are sent as given).
const README_STYLES = join(
  dirname(require.resolve("@readme/oas-examples/package.json")),
  "3.0/json/parameters-style.json",
);
const STYLE_OPS = [
  "paths_matrix_nonExploded",
  "paths_matrix_exploded",
  "paths_label_nonExploded",
  "paths_label_exploded",
  "paths_simple_exploded",
  "query_form_nonExploded",
  "query_spaceDelimited_nonExploded",
  "query_pipeDelimited_nonExploded",
  "query_deepObject_nonExploded",
  "headers_simple_nonExploded",
  "headers_simple_exploded",
];

describe("every parameter style, on ReadMe's published conformance document", () => {
  const tmp = tempServerDir("style-readme");
  let t: TestClient;
  const headers: Record<string, string | undefined>[] = [];
  const record = (req: IncomingMessage) =>
    headers.push({
      primitive: req.headers.primitive as string | undefined,
      array: req.headers.array as string | undefined,
      object: req.headers.object as string | undefined,
    });
  beforeAll(async () => {
    t = await clientFor(README_STYLES, "styles", tmp.dir, STYLE_OPS);
    upstream.on("request", record);
  });
  afterAll(async () => {
    upstream.off("request", record);
    await t?.close();
    tmp.cleanup();
  });

  const color = { R: 100, G: 200, B: 150 };
  const sent = async (name: string, args: Record<string, unknown>) => {
    urls.length = 0;
    headers.length = 0;
    const r = (await t.client.callTool({ name, arguments: args })) as unknown as Result;
    expect(r.isError, `${name}: ${r.content[0]?.text}`).toBeFalsy();
    expect(urls, name).toHaveLength(1);
    return { url: urls[0]!, headers: headers[0]! };
  };
  const all = { primitive: "blue", array: ["blue", "black", "brown"], object: color };

  it.each([
    [
      "paths_matrix_non_exploded",
      "/anything/path/matrix/;primitive=blue/;array=blue,black,brown/;object=R,100,G,200,B,150",
    ],
    [
      "paths_matrix_exploded",
      "/anything/path/matrix/;primitive=blue/;array=blue;array=black;array=brown/;R=100;G=200;B=150",
    ],
    ["paths_label_non_exploded", "/anything/path/label/.blue/.blue,black,brown/.R,100,G,200,B,150"],
    ["paths_label_exploded", "/anything/path/label/.blue/.blue.black.brown/.R=100.G=200.B=150"],
    ["paths_simple_exploded", "/anything/path/simple/blue/blue,black,brown/R=100,G=200,B=150"],
  ])("path style: %s", async (name, path) => {
    const { url } = await sent(name, all);
    expect(url).toBe(path);
  });

  it.each([
    ["query_form_non_exploded", all, "primitive=blue&array=blue,black,brown&object=R,100,G,200,B,150"],
    [
      "query_space_delimited_non_exploded",
      { array: all.array, object: color },
      "array=blue black brown&object=R 100 G 200 B 150",
    ],
    [
      "query_pipe_delimited_non_exploded",
      { array: all.array, object: color },
      "array=blue|black|brown&object=R|100|G|200|B|150",
    ],
    ["query_deep_object_non_exploded", { object: color }, "object[R]=100&object[G]=200&object[B]=150"],
  ])("query style: %s", async (name, args, query) => {
    const { url } = await sent(name, args);
    const got = new URL(url, base).searchParams;
    expect([...got].map(([k, v]) => `${k}=${v}`).join("&")).toBe(query);
  });

  it.each([
    [
      "headers_simple_non_exploded",
      { primitive: "blue", array: "blue,black,brown", object: "R,100,G,200,B,150" },
    ],
    [
      "headers_simple_exploded",
      { primitive: "blue", array: "blue,black,brown", object: "R=100,G=200,B=150" },
    ],
  ])("header style: %s", async (name, expected) => {
    const { headers: got } = await sent(name, all);
    expect(got).toEqual(expected);
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

  it("is read at path and operation level from ReadMe's published document, relative ones under baseUrl", async () => {
    const doc = join(
      dirname(require.resolve("@readme/oas-examples/package.json")),
      "3.0/json/server-path-level.json",
    );
    const out = join(tmp.dir, "readme");
    await generate({
      document: doc,
      outDir: out,
      name: "paths",
      include: [
        "get_relative_path_server",
        "get_relative_operation_server",
        "get_operation_server_variables",
        "get_path_item_ref_server",
        "get_empty_operation_servers",
      ],
    });
    const { api } = (await import(join(out, "src/generated/config.ts"))) as {
      api: { serverHosts: string[]; defaultBaseUrl: string };
    };
    // Operation level (its variable at its default), a path item reached through $ref, and a path
    // level server under an operation whose own list is empty.
    expect([...api.serverHosts].sort()).toEqual([
      "empty-operation-path.example.com",
      "operation.example.com",
      "path-item-ref.example.com",
    ]);
    expect(api.defaultBaseUrl).toBe("https://demo.example.com:443/v2");
    const m = await mod(out);
    const c = await createTestClient(m.default, {
      config: m.settingsSchema.parse({ baseUrl: base, allowPrivateNetwork: true }),
    });
    try {
      urls.length = 0;
      for (const name of [
        "get_relative_path_server",
        "get_relative_operation_server",
        "get_operation_server_variables",
      ]) {
        const r = (await c.client.callTool({ name, arguments: {} })) as unknown as Result;
        expect(r.isError, `${name}: ${r.content[0]?.text}`).toBeFalsy();
      }
      // Relative servers are prefixed to the path; an absolute one yields to a baseUrl pointed elsewhere.
      expect(urls).toEqual([
        "/v2/relative-path-server",
        "/v3/relative-operation-server",
        "/operation-server-variables",
      ]);
    } finally {
      await c.close();
    }
  });
});
