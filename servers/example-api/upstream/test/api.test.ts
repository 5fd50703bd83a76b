import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createExampleApi } from "../src/app.js";

// Real processes and servers: generous limits for a loaded CI machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const TOKEN = "test-token-123";
const dir = mkdtempSync(join(tmpdir(), "example-api-"));
const dataFile = join(dir, "data", "resources.json");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function api(base: string, auth: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

describe("the Example API", () => {
  let server: Server;
  let call: ReturnType<typeof api>;
  let base: string;
  beforeAll(async () => {
    server = await createExampleApi({ dataFile, tokens: [TOKEN] });
    base = await listen(server);
    call = api(base);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("creates, gets, lists, replaces, searches and deletes resources", async () => {
    const created = await call("POST", "/resources", { name: "Alpha widget", description: "first" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "Alpha widget", description: "first", category: "general" });
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const id = created.body.id as string;
    await call("POST", "/resources", { name: "Beta gadget", category: "tools" });

    expect((await call("GET", `/resources/${id}`)).body).toEqual(created.body);
    const page = await call("GET", "/resources?limit=1&offset=1");
    expect(page.body).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(page.body.items).toHaveLength(1);

    const replaced = await call("PUT", `/resources/${id}`, { name: "Alpha widget v2", category: "tools" });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ name: "Alpha widget v2", description: "", category: "tools" });
    expect(replaced.body.updated_at > created.body.updated_at).toBe(true);
    expect(replaced.body.created_at).toBe(created.body.created_at);

    const found = await call("GET", "/search?query=WIDGET&category=tools&sort_by=updated_at");
    expect(found.body.total).toBe(1);
    expect(found.body.items[0].id).toBe(id);
    const byName = await call("GET", "/search?query=get&sort_by=name&order=desc");
    expect(byName.body.items.map((r: { name: string }) => r.name)).toEqual([
      "Beta gadget",
      "Alpha widget v2",
    ]);

    expect((await call("DELETE", `/resources/${id}`)).status).toBe(204);
    const gone = await call("GET", `/resources/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.message).toContain(`resource '${id}' not found`);
    expect((await call("DELETE", `/resources/${id}`)).status).toBe(404);
  });

  it.each([
    ["GET", "/resources?limit=0", undefined, /limit must be an integer from 1 to 100/],
    ["GET", "/resources?limit=101", undefined, /limit must be an integer from 1 to 100/],
    ["GET", "/resources?offset=-1", undefined, /offset must be an integer at least 0/],
    ["POST", "/resources", { name: "ab" }, /name must be 3 to 100 characters/],
    ["POST", "/resources", { description: "x" }, /name is required/],
    ["POST", "/resources", { name: "okay", color: "red" }, /unknown field 'color'/],
    ["GET", "/search?query=ab", undefined, /query must be 3 to 200 characters/],
    ["GET", "/search", undefined, /query is required/],
    [
      "GET",
      "/search?query=abc&sort_by=color",
      undefined,
      /sort_by must be one of name, created_at, updated_at/,
    ],
  ] as const)("refuses %s %s with a 400 that says why", async (method, path, body, message) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.message).toMatch(message);
  });

  it("accepts X-API-Key and refuses a missing or wrong credential with 401", async () => {
    expect((await api(base, { "x-api-key": TOKEN })("GET", "/resources")).status).toBe(200);
    const bad: Record<string, string>[] = [{}, { authorization: "Bearer nope" }, { "x-api-key": "nope" }];
    for (const auth of bad) {
      const res = await api(base, auth)("GET", "/resources");
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/send an Authorization: Bearer header or an X-API-Key header/);
    }
  });

  it("serves its OpenAPI document and a health check without credentials", async () => {
    const doc = await fetch(`${base}/openapi.yaml`);
    expect(doc.status).toBe(200);
    expect(await doc.text()).toMatch(/^openapi: 3\.1\.0/);
    expect((await api(base, {})("GET", "/healthz")).body).toEqual({ status: "ok" });
  });

  it("answers 500 with a clear message when the data file cannot be written, and keeps serving", async () => {
    // Replace the data file by a directory: the atomic rename onto it fails, even for root.
    rmSync(dataFile);
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dataFile);
    try {
      const res = await call("POST", "/resources", { name: "Never saved" });
      expect(res.status).toBe(500);
      expect(res.body.error.message).toMatch(/could not complete the request; try again/);
      const list = await call("GET", "/search?query=never");
      expect(list.body.total).toBe(0); // the failed change is not visible
      expect(readdirSync(join(dir, "data")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    } finally {
      rmSync(dataFile, { recursive: true });
    }
  });
});

describe("persistence", () => {
  const bin = join(import.meta.dirname, "../dist/bin.js");

  it("keeps every acknowledged change across a crash (SIGKILL) and a restart", async () => {
    expect(existsSync(bin), "build the upstream first (turbo run build)").toBe(true);
    const file = join(dir, "crash", "data.json");
    const start = async () => {
      const child = spawn(process.execPath, [bin, "--port", "0", "--data-file", file, "--token", TOKEN], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      const url = await new Promise<string>((resolve, reject) => {
        let err = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
          err += chunk;
          const m = /"url":"(http:\/\/[^"]+)"/.exec(err);
          if (m) resolve(m[1]!);
        });
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      return { child, call: api(url) };
    };
    const first = await start();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await first.call("POST", "/resources", { name: `Crash test ${i}` });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));

    const second = await start();
    try {
      const page = await second.call("GET", "/resources?limit=100");
      expect(page.body.total).toBe(20);
      expect(page.body.items.map((r: { id: string }) => r.id).sort()).toEqual([...ids].sort());
    } finally {
      second.child.kill("SIGTERM");
    }
  });
});
