// oneOf/anyOf inputs send what the model sent. On Blockfrost's published description (from npm), whose
// additionalUtxoSet items are anyOf [TxIn (no required keys), TxOut]: a TxOut used to match TxIn first
// and reach the API as {}; discriminators on ReadMe's published conformance document (from npm). A
// loopback upstream records the bodies; the real SDK client calls the tools.
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

// Discriminators on ReadMe's published conformance document (@readme/oas-examples, from npm): a oneOf
// tagged through a mapping ("Option One"), one tagged by schema names (no mapping), and one whose
// variants are allOf compositions (CatNoDisc = PetNoDisc + its own fields).
const DISCRIMINATORS = join(
  dirname(require.resolve("@readme/oas-examples/package.json")),
  "3.0/json/discriminators.json",
);

describe("discriminators on ReadMe's published document", () => {
  const tmp = tempServerDir("unions-readme");
  let t: TestClient;
  beforeAll(async () => {
    t = await clientFor(DISCRIMINATORS, "disc", tmp.dir, [
      "oneOfWithTopLevelDiscriminatorAndMapping",
      "oneOfWithTopLevelDiscriminatorNoMapping",
      "patch_oneof_allof_top_level_disc",
    ]);
  });
  afterAll(async () => {
    await t?.close();
    tmp.cleanup();
  });
  const call = async (name: string, body: unknown) =>
    (await t.client.callTool({ name, arguments: { body } })) as unknown as Result;
  const MAPPED = "one_of_with_top_level_discriminator_and_mapping";
  const IMPLIED = "one_of_with_top_level_discriminator_no_mapping";
  const ALLOF = "patch_oneof_allof_top_level_disc";

  it("picks the variant by its tag (mapped, implied, or over allOf variants) and sends it whole", async () => {
    bodies.length = 0;
    const sent = [
      [MAPPED, { discrim: "Option One", optionone: 1, note: "a key no variant lists" }],
      [MAPPED, { discrim: "Option Two", optiontwo: "two" }],
      [IMPLIED, { discrim: "OptionTwoNoDisc", optiontwo: "two" }],
      [ALLOF, { pet_type: "DogNoDisc", bark: true, breed: "Husky" }],
      [ALLOF, { pet_type: "CatNoDisc", hunts: true, age: 3 }],
    ] as const;
    for (const [name, body] of sent) {
      const r = await call(name, body);
      expect(r.isError, `${name}: ${r.content[0]?.text}`).toBeFalsy();
    }
    expect(bodies).toEqual(sent.map(([, body]) => body));
  });

  it("refuses an unknown tag, and a body that only fits a variant other than its tag's", async () => {
    bodies.length = 0;
    const unknown = await call(MAPPED, { discrim: "Option Three", optionthree: "3" });
    expect(unknown.isError).toBe(true);
    expect(unknown.content[0]!.text).toMatch(/discrim/);
    // A schema name where the mapping names the tags is no tag here.
    expect((await call(MAPPED, { discrim: "OptionOneNoDisc", optionone: 1 })).isError).toBe(true);
    // "Option One" selects OptionOneNoDisc, whose optionone is a number: no fall-through to Option Two.
    expect((await call(MAPPED, { discrim: "Option One", optionone: "one" })).isError).toBe(true);
    // Tagged a dog, shaped like a dog with a cat's wrong-typed field: the dog's breed enum holds.
    expect((await call(ALLOF, { pet_type: "DogNoDisc", breed: "Tabby" })).isError).toBe(true);
    expect(bodies).toEqual([]);
  });

  it("tells the model each variant's tag", async () => {
    const { tools } = await t.client.listTools();
    const schema = (name: string) =>
      JSON.stringify(
        (tools.find((x) => x.name === name)!.inputSchema as { properties: Record<string, unknown> })
          .properties.body,
      );
    expect(schema(MAPPED)).toContain('"const":"Option One"');
    expect(schema(MAPPED)).toContain('"const":"Option Two"');
    expect(schema(IMPLIED)).toContain('"const":"OptionOneNoDisc"');
    expect(schema(ALLOF)).toContain('"const":"CatNoDisc"');
  });
});
