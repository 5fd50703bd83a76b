// Output schemas within a byte budget, on Blockfrost's published description (from npm): above the
// budget a tool advertises its answer's top-level fields and their types, above it again an open
// object; answers still reach the model whole, and an override sets one tool's budget.
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { createTestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generate } from "../src/generate.js";
import { tempServerDir } from "./helpers.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const require = createRequire(import.meta.url);
const BLOCKFROST = join(dirname(require.resolve("@blockfrost/openapi/package.json")), "openapi.yaml");
const INCLUDE = ["get_accounts_by_stake_address", "get_accounts_by_stake_address_utxos", "get_health"];

let answer: unknown = {};
let upstream: Server;
let base: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer)),
    );
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

type Schema = { properties?: Record<string, Record<string, unknown>>; [k: string]: unknown };

async function listed(budget: number | undefined, overrides?: string) {
  const tmp = tempServerDir("budget");
  try {
    await generate({
      document: BLOCKFROST,
      outDir: tmp.dir,
      name: "bf",
      include: INCLUDE,
      ...(budget === undefined ? {} : { maxOutputSchemaBytes: budget }),
    });
    if (overrides) writeFileSync(join(tmp.dir, "src/overrides.ts"), overrides);
    const def = (
      (await import(join(tmp.dir, "src/server.ts"))) as { default: Parameters<typeof createTestClient>[0] }
    ).default;
    const { configSchema } = (await import(join(tmp.dir, "src/generated/config.ts"))) as {
      configSchema: { parse(v: unknown): unknown };
    };
    const t = await createTestClient(def, {
      config: configSchema.parse({ baseUrl: base, allowPrivateNetwork: true }),
    });
    const { tools } = await t.client.listTools();
    const out = Object.fromEntries(tools.map((tool) => [tool.name, tool.outputSchema as Schema]));
    return { t, out, cleanup: () => t.close().finally(() => tmp.cleanup()) };
  } catch (err) {
    tmp.cleanup();
    throw err;
  }
}

const bytes = (s: unknown) => Buffer.byteLength(JSON.stringify(s));

describe("the output schema budget", () => {
  let full: Awaited<ReturnType<typeof listed>>;
  let small: Awaited<ReturnType<typeof listed>>;
  beforeAll(async () => {
    full = await listed(0);
    small = await listed(700);
  });
  afterAll(async () => {
    await full?.cleanup();
    await small?.cleanup();
  });

  it("keeps a schema that fits and summarises one that does not, to its fields and their types", () => {
    const name = "get_accounts_by_stake_address";
    expect(bytes(full.out[name])).toBeGreaterThan(700);
    expect(bytes(small.out.get_health)).toBe(bytes(full.out.get_health));
    const summary = small.out[name]!;
    expect(bytes(summary)).toBeLessThanOrEqual(700);
    expect(Object.keys(summary.properties!)).toEqual(Object.keys(full.out[name]!.properties!));
    expect(summary.properties!.stake_address).toEqual({ type: "string" }); // description dropped
    expect(JSON.stringify(summary)).not.toContain("description");
  });

  it("leaves a list's schema open when even its summary is over the budget", () => {
    const name = "get_accounts_by_stake_address_utxos";
    expect(bytes(full.out[name])).toBeGreaterThan(700);
    expect(small.out[name]).toMatchObject({ properties: { items: { type: "array", items: {} } } });
  });

  it("still returns the whole answer, nested fields included", async () => {
    answer = [
      { address: "addr1", tx_hash: "ab", output_index: 0, amount: [{ unit: "lovelace", quantity: "1" }] },
    ];
    const r = (await small.t.client.callTool({
      name: "get_accounts_by_stake_address_utxos",
      arguments: { stake_address: "stake1" },
    })) as { isError?: boolean; structuredContent?: unknown; content: { text?: string }[] };
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.structuredContent).toEqual({ items: answer });
  });

  it("lets src/overrides.ts give one tool its own budget", async () => {
    const one = await listed(
      700,
      'import type { Overrides } from "@toolshed/openapi-runtime";\n' +
        "export const overrides: Overrides = {\n" +
        "  tools: { get_accounts_by_stake_address: { maxOutputSchemaBytes: 0 } },\n};\n",
    );
    try {
      expect(one.out.get_accounts_by_stake_address).toEqual(full.out.get_accounts_by_stake_address);
      expect(one.out.get_accounts_by_stake_address_utxos).toEqual(
        small.out.get_accounts_by_stake_address_utxos,
      );
    } finally {
      await one.cleanup();
    }
  });
});
