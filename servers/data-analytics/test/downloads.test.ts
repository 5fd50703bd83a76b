import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config.js";
import { call, client, fixtures, tempDataDir } from "./helpers.js";

// register_dataset { url } against a real HTTP server on loopback (the allow-list admits plain
// http only there). Every request the server sees is counted, so "refused before fetching" is
// checked from the upstream's side.
const salesCsv = readFileSync(path.join(fixtures, "sales.csv"));
// ~3 MiB, so the download sends several progress notifications.
const bigCsv = Buffer.from(
  ["id,name,value", ...Array.from({ length: 120_000 }, (_, i) => `${i},name_${i % 1000},${i * 0.5}`)].join(
    "\n",
  ) + "\n",
);

let server: Server;
let base: string;
const seen: string[] = [];
const flaky = { count: 0 };

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  seen.push(url);
  if (url === "/data/sales.csv") {
    res.writeHead(200, { "content-type": "text/csv", "content-length": String(salesCsv.length) });
    res.end(salesCsv);
  } else if (url === "/data/big.csv") {
    res.writeHead(200, { "content-type": "text/csv", "content-length": String(bigCsv.length) });
    // Dribbled out so the download takes long enough to report its way there.
    let at = 0;
    const pump = () => {
      if (res.destroyed) return;
      if (at >= bigCsv.length) return void res.end();
      res.write(bigCsv.subarray(at, at + 256 * 1024));
      at += 256 * 1024;
      setTimeout(pump, 60);
    };
    pump();
  } else if (url === "/data/export") {
    // No extension: the format comes from the content-type.
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.end('{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n');
  } else if (url === "/data/login.csv") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<html><body>Please log in</body></html>");
  } else if (url === "/data/blob") {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end("a,b\n1,2\n");
  } else if (url === "/data/flaky.csv") {
    // Dies mid-body on the first try: the download must start over, not append.
    if (flaky.count++ === 0) {
      res.writeHead(200, { "content-type": "text/csv", "content-length": String(salesCsv.length) });
      res.write(salesCsv.subarray(0, 20));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.writeHead(200, { "content-type": "text/csv" });
    res.end(salesCsv);
  } else if (url === "/data/redirect-out.csv") {
    res.writeHead(302, {
      location: `http://localhost:${(server.address() as AddressInfo).port}/data/sales.csv`,
    });
    res.end();
  } else if (url === "/data/huge.csv") {
    res.writeHead(200, { "content-type": "text/csv" });
    const chunk = Buffer.alloc(64 * 1024, "1\n");
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once("drain", pump);
    };
    pump();
  } else {
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: "Not Found" }));
  }
}

const data = tempDataDir();
let t: TestClient;

beforeAll(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await client({ dataDir: data.dir, allowUrl: [`${base}/data/`], maxDownloadBytes: 4 * 1024 * 1024 });
});
afterAll(async () => {
  await t.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  data.cleanup();
});

const downloads = () => readdirSync(path.join(data.dir, "downloads")).sort();

describe("register_dataset from an allow-listed URL", () => {
  it("downloads into the data dir, infers the types and records the URL as the source", async () => {
    const r = await call(t, "register_dataset", { name: "web_sales", url: `${base}/data/sales.csv` });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.data).toMatchObject({
      name: "web_sales",
      rowCount: 6,
      format: "csv",
      source: `${base}/data/sales.csv`,
    });
    expect(r.data.columns).toContainEqual({ name: "amount", type: "DOUBLE" });
    expect(downloads()).toContain("web_sales.csv");
    const q = await call(t, "query", { sql: "SELECT sum(units) AS u FROM web_sales" });
    expect(q.data.rows).toEqual([[15]]); // the fixture: 1+2+3+4+5 with one NULL
  });

  it("reports download and load progress in percent, always rising to 100", async () => {
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const r = (await t.client.callTool(
      { name: "register_dataset", arguments: { name: "big", url: `${base}/data/big.csv` } },
      { onprogress: (p) => seen.push(p) },
    )) as { structuredContent?: { rowCount: number } };
    expect(r.structuredContent?.rowCount).toBe(120_000);
    expect(seen[0]).toMatchObject({
      progress: 0,
      total: 100,
      message: expect.stringMatching(/^downloading /),
    });
    expect(seen.some((s) => /^downloaded [\d.]+ of [\d.]+ MiB$/.test(s.message ?? ""))).toBe(true);
    expect(seen.at(-1)).toMatchObject({
      progress: 100,
      message: expect.stringMatching(/^loaded 120000 rows/),
    });
    const values = seen.map((s) => s.progress);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!);
  });

  it("takes the format from the content-type when the URL has no extension, else asks for it", async () => {
    const r = await call(t, "register_dataset", { name: "events_web", url: `${base}/data/export` });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.data).toMatchObject({ format: "ndjson", rowCount: 2 });
    const blob = await call(t, "register_dataset", { name: "blob", url: `${base}/data/blob` });
    expect(blob.isError).toBe(true);
    expect(blob.text).toMatch(/cannot tell the format .*application\/octet-stream.*pass format/);
    expect(downloads().filter((f) => f.startsWith("blob"))).toEqual([]);
    const typed = await call(t, "register_dataset", {
      name: "blob",
      url: `${base}/data/blob`,
      format: "csv",
    });
    expect(typed.data).toMatchObject({ rowCount: 1 });
  });

  it("refuses a web page served where data was expected, leaving no file", async () => {
    const r = await call(t, "register_dataset", {
      name: "login",
      url: `${base}/data/login.csv`,
      format: "csv",
    });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/answered with a web page \(text\/html; charset=utf-8\), not a data file/);
    expect(downloads().filter((f) => f.startsWith("login"))).toEqual([]);
  });

  it("starts a download over when the connection drops mid-body", async () => {
    const r = await call(t, "register_dataset", { name: "flaky", url: `${base}/data/flaky.csv` });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.data.rowCount).toBe(6);
    expect(flaky.count).toBe(2);
  });

  it("refuses URLs outside the allowed bases before fetching anything", async () => {
    const before = seen.length;
    for (const url of [
      `${base}/other/sales.csv`,
      `${base}/data/../etc/passwd`,
      `${base}/database.csv`,
      `http://localhost:${new URL(base).port}/data/sales.csv`,
      "http://169.254.169.254/latest/meta-data/",
      `http://user:pw@${new URL(base).host}/data/sales.csv`,
      "file:///etc/passwd",
    ]) {
      const r = await call(t, "register_dataset", { name: "nope", url });
      expect(r.isError, url).toBe(true);
      expect(r.text, url).toMatch(/not under an allowed base URL.*--allow-url/);
    }
    expect(seen.length).toBe(before);
  });

  it("refuses a redirect to a host that is not allowed, and a body over the cap, leaving no file", async () => {
    const out = await call(t, "register_dataset", { name: "redir", url: `${base}/data/redirect-out.csv` });
    expect(out.isError).toBe(true);
    expect(out.text).toMatch(/redirected to another host \('localhost'\)/);
    const huge = await call(t, "register_dataset", { name: "huge", url: `${base}/data/huge.csv` });
    expect(huge.isError).toBe(true);
    expect(huge.text).toMatch(/larger than the 4 MiB cap/);
    expect(downloads().filter((f) => /^(redir|huge)/.test(f))).toEqual([]);
    expect(
      (await call(t, "list_datasets", {})).data.datasets.map((d: { name: string }) => d.name),
    ).not.toContain("huge");
  });

  it("says what the upstream said on a 404, and refuses an existing name before downloading", async () => {
    const r = await call(t, "register_dataset", { name: "missing", url: `${base}/data/missing.csv` });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/404|not found/i);
    const before = seen.length;
    const dup = await call(t, "register_dataset", { name: "web_sales", url: `${base}/data/sales.csv` });
    expect(dup.text).toMatch(/already exists; pass replace: true/);
    expect(seen.length).toBe(before);
  });

  it("wants exactly one of path and url", async () => {
    const both = await call(t, "register_dataset", {
      name: "z",
      path: "sales.csv",
      url: `${base}/data/sales.csv`,
    });
    expect(both.isError).toBe(true);
    expect(both.text).toMatch(/exactly one of path or url/);
    const neither = await call(t, "register_dataset", { name: "z" });
    expect(neither.text).toMatch(/exactly one of path or url/);
  });
});

describe("without --allow-url", () => {
  it("refuses every URL, saying downloads are off", async () => {
    const other = tempDataDir();
    const plain = await client({ dataDir: other.dir });
    try {
      const before = seen.length;
      const r = await call(plain, "register_dataset", { name: "s", url: `${base}/data/sales.csv` });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/downloads are off.*--allow-url/);
      expect(seen.length).toBe(before);
      expect(existsSync(path.join(other.dir, "downloads"))).toBe(false);
    } finally {
      await plain.close();
      other.cleanup();
    }
  });
});

describe("--allow-url", () => {
  it.each([
    ["http://data.example.org/", /only https base URLs/],
    ["https://user:pw@data.example.org/", /credentials do not belong/],
    ["https://data.example.org/?token=1", /no query or fragment/],
    ["not a url", /is not a URL/],
  ])("refuses %s at startup", (value, message) => {
    const parsed = configSchema.safeParse({ allowUrl: [value] });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(message);
  });

  it("accepts https anywhere and http on loopback", () => {
    expect(
      configSchema.safeParse({ allowUrl: ["https://data.example.org/public/", "http://127.0.0.1:8080/x/"] })
        .success,
    ).toBe(true);
  });
});
