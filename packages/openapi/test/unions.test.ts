// oneOf/anyOf inputs send what the model sent. On Blockfrost's published description (from npm), whose
// additionalUtxoSet items are anyOf [TxIn (no required keys), TxOut]: a TxOut used to match TxIn first
// and reach the API as {}. A loopback upstream records the bodies; the real SDK client calls the tools.
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { createTestClient, type TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generate } from "../src/generate.js";
import { tempServerDir } from "./helpers.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const require = createRequire(import.meta.url);
const BLOCKFROST = join(dirname(require.resolve("@blockfrost/openapi/package.json")), "openapi.yaml");

const bodies: unknown[] = [];
let upstream: Server;
let base: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      bodies.push(body ? JSON.parse(body) : undefined);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- results are read by the assertions
type Result = { isError?: boolean; structuredContent?: any; content: { text?: string }[] };

async function clientFor(document: string, name: string, dir: string, include?: string[]) {
  await generate({ document, outDir: dir, name, ...(include ? { include } : {}) });
  const def = (
    (await import(join(dir, "src/server.ts"))) as { default: Parameters<typeof createTestClient>[0] }
  ).default;
  const { configSchema } = (await import(join(dir, "src/generated/config.ts"))) as {
    configSchema: { parse(v: unknown): unknown };
  };
  const config = configSchema.parse({ baseUrl: base, allowPrivateNetwork: true });
  return createTestClient(def, { config });
}

describe("anyOf on Blockfrost's description", () => {
  const tmp = tempServerDir("unions-bf");
  let t: TestClient;
  beforeAll(async () => {
    t = await clientFor(BLOCKFROST, "bf", tmp.dir, ["post_utils_txs_evaluate_utxos"]);
  });
  afterAll(async () => {
    await t?.close();
    tmp.cleanup();
  });
  const call = async (args: Record<string, unknown>) =>
    (await t.client.callTool({
      name: "post_utils_txs_evaluate_utxos",
      arguments: args,
    })) as unknown as Result;

  it("sends the matched variant whole, nested objects and unknown keys included", async () => {
    bodies.length = 0;
    const txIn = { txId: "ab12", index: 0 };
    const txOut = {
      address: "addr1qx",
      value: { coins: 5, assets: { abc: 2 } },
      datum: { k: [1] },
      note: "a key neither variant lists",
    };
    const r = await call({ cbor: "84a4", additionalUtxoSet: [[txIn, txOut]] });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(bodies).toEqual([{ cbor: "84a4", additionalUtxoSet: [[txIn, txOut]] }]);
  });

  it("refuses input that fits no variant instead of sending part of it", async () => {
    bodies.length = 0;
    const r = await call({ cbor: "84a4", additionalUtxoSet: [[{ txId: 7 }, { address: "a" }]] });
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toMatch(/invalid arguments/);
    expect(bodies).toEqual([]);
  });

  it("shows the model variants that do not forbid extra keys", async () => {
    const { tools } = await t.client.listTools();
    const text = JSON.stringify(tools[0]!.inputSchema);
    expect(text).toContain('"anyOf"');
    expect(text).not.toContain('"additionalProperties":false');
  });
});

// No published description on npm we found uses `discriminator`, so this one is written here: the
// OpenAPI spec's own Pet/Cat/Dog pattern, with a mapping and with an implied (schema-name) tag.
const PETS = {
  openapi: "3.0.3",
  info: { title: "Pets", version: "1.0.0" },
  servers: [{ url: "http://127.0.0.1" }],
  paths: {
    "/pets": {
      post: {
        operationId: "addPet",
        summary: "Add a pet of any kind",
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } },
        },
        responses: { "204": { description: "added" } },
      },
    },
  },
  components: {
    schemas: {
      Pet: {
        oneOf: [{ $ref: "#/components/schemas/Cat" }, { $ref: "#/components/schemas/Dog" }],
        discriminator: { propertyName: "petType", mapping: { kitty: "#/components/schemas/Cat" } },
      },
      Cat: {
        type: "object",
        required: ["petType", "name"],
        properties: { petType: { type: "string" }, name: { type: "string" }, lives: { type: "integer" } },
      },
      Dog: {
        type: "object",
        required: ["petType"],
        properties: { petType: { type: "string" }, bark: { type: "string" } },
      },
    },
  },
};

describe("a discriminator", () => {
  const tmp = tempServerDir("unions-pets");
  let t: TestClient;
  beforeAll(async () => {
    const doc = join(tmp.dir, "pets.json");
    writeFileSync(doc, JSON.stringify(PETS));
    t = await clientFor(doc, "pets", tmp.dir);
  });
  afterAll(async () => {
    await t?.close();
    tmp.cleanup();
  });
  const call = async (args: Record<string, unknown>) =>
    (await t.client.callTool({ name: "add_pet", arguments: args })) as unknown as Result;

  it("picks the variant by its tag (mapped or implied) and sends it whole", async () => {
    bodies.length = 0;
    const dog = { petType: "Dog", bark: "woof", name: "Rex" };
    const cat = { petType: "kitty", name: "Tom", lives: 9 };
    expect((await call({ body: dog })).isError).toBeFalsy();
    expect((await call({ body: cat })).isError).toBeFalsy();
    expect(bodies).toEqual([dog, cat]);
  });

  it("refuses an unknown tag, and a tagged variant missing its own required keys", async () => {
    bodies.length = 0;
    const bad = await call({ body: { petType: "Cat", name: "Tom" } });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text).toMatch(/petType/);
    // "kitty" selects Cat, which requires a name: a Dog-shaped body does not slip through.
    expect((await call({ body: { petType: "kitty", bark: "woof" } })).isError).toBe(true);
    expect(bodies).toEqual([]);
  });

  it("tells the model each variant's tag", async () => {
    const { tools } = await t.client.listTools();
    const body = (tools[0]!.inputSchema as { properties: Record<string, unknown> }).properties.body;
    const schema = JSON.stringify(body);
    expect(schema).toContain('"const":"kitty"');
    expect(schema).toContain('"const":"Dog"');
  });
});
