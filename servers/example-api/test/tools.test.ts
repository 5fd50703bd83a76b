// The generated server, driven by the real SDK client, against the real Example API on loopback.
import { rmSync, mkdirSync } from "node:fs";
import type { TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call, client, startUpstream, TOKEN } from "./helpers.js";

// Real processes and servers: generous limits for a loaded CI machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let t: TestClient;
beforeAll(async () => {
  upstream = await startUpstream();
  t = await client({ baseUrl: upstream.url, exampleApiBearerToken: TOKEN });
});
afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

describe("resources through the MCP tools", () => {
  it("creates, gets, lists, updates, searches and deletes", async () => {
    const created = await call(t, "create_resource", {
      name: "Solar panel",
      description: "Roof kit",
      category: "energy",
    });
    expect(created.isError).toBe(false);
    expect(created.data).toMatchObject({ name: "Solar panel", description: "Roof kit", category: "energy" });
    const id = created.data.id as string;
    await call(t, "create_resource", { name: "Wind turbine" });

    const got = await call(t, "get_resource", { id });
    expect(got.data).toEqual(created.data);

    const page = await call(t, "list_resources", { limit: 1 });
    expect(page.data).toMatchObject({ total: 2, limit: 1, offset: 0 });
    expect(page.data.items).toHaveLength(1);
    const rest = await call(t, "list_resources", { limit: 1, offset: 1 });
    expect(rest.data.items[0].id).not.toBe(page.data.items[0].id);

    const updated = await call(t, "update_resource", { id, name: "Solar panel v2", category: "energy" });
    expect(updated.data).toMatchObject({
      id,
      name: "Solar panel v2",
      description: "",
      created_at: created.data.created_at,
    });
    expect(updated.data.updated_at > created.data.updated_at).toBe(true);

    const found = await call(t, "search_resources", {
      query: "solar",
      category: "energy",
      sort_by: "updated_at",
    });
    expect(found.data.total).toBe(1);
    expect(found.data.items[0]).toMatchObject({ id, name: "Solar panel v2" });
    const sorted = await call(t, "search_resources", { query: "n", sort_by: "name", order: "desc" }).catch(
      () => null,
    );
    expect(sorted?.isError).toBe(true); // 1 character is below the document's minLength 3
    const byName = await call(t, "search_resources", { query: "ine", sort_by: "name" });
    expect(byName.data.items.map((r: { name: string }) => r.name)).toEqual(["Wind turbine"]);

    const deleted = await call(t, "delete_resource", { id });
    expect(deleted.isError).toBe(false);
    expect(deleted.data).toEqual({ status: 204 });
    const gone = await call(t, "get_resource", { id });
    expect(gone.isError).toBe(true);
    expect(gone.text).toContain(`resource '${id}' not found`);
  });

  it("sends the API key header when that is the credential configured", async () => {
    const keyed = await client({ baseUrl: upstream.url, exampleApiApiKey: TOKEN });
    try {
      const res = await call(keyed, "list_resources", {});
      expect(res.isError).toBe(false);
      expect(res.data.limit).toBe(20); // the document's default
    } finally {
      await keyed.close();
    }
  });
});

describe("bad input", () => {
  it.each([
    ["list_resources", { limit: 0 }, /limit.*(>=1|too small)/i],
    ["list_resources", { offset: -1 }, /offset.*(>=0|too small)/i],
    ["create_resource", { name: "ab" }, /name.*(>=3|too small)/i],
    ["search_resources", { query: "solar", sort_by: "color" }, /sort_by.*(name|created_at|updated_at)/],
    ["search_resources", { query: "so" }, /query.*(>=3|too small)/i],
    ["get_resource", {}, /id/],
    ["update_resource", { name: "valid name" }, /id/],
  ])("%s %j is refused with the schema's message", async (tool, args, message) => {
    const res = await call(t, tool, args);
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/invalid_input|invalid arguments/);
    expect(res.text).toMatch(message);
  });

  it("a path parameter of '.' or '..' is refused before any request (it would change the path)", async () => {
    for (const id of ["..", ".", "%2e%2E"]) {
      const res = await call(t, "delete_resource", { id });
      expect(res.isError).toBe(true);
      expect(res.text).toContain(`invalid_input: 'id' cannot be '${id}'`);
    }
  });

  it("an id that does not exist is the API's 404, as a not_found tool error", async () => {
    const res = await call(t, "get_resource", { id: "no-such-id" });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/not_found|not found/);
    expect(res.text).toContain("resource 'no-such-id' not found; call listResources");
    const del = await call(t, "delete_resource", { id: "no-such-id" });
    expect(del.isError).toBe(true);
    expect(del.text).toContain("not found");
  });
});

describe("upstream failures", () => {
  it("401: a wrong or missing credential says which env vars to set", async () => {
    for (const config of [{ exampleApiBearerToken: "wrong" }, {}]) {
      const c = await client({ baseUrl: upstream.url, ...config });
      try {
        const res = await call(c, "list_resources", {});
        expect(res.isError).toBe(true);
        expect(res.text).toMatch(/unauthenticated/);
        expect(res.text).toContain("send an Authorization: Bearer header or an X-API-Key header");
        expect(res.text).toContain("Set EXAMPLE_API_API_KEY or EXAMPLE_API_BEARER_TOKEN");
        expect(res.text).not.toContain("wrong"); // the credential never shows
      } finally {
        await c.close();
      }
    }
  });

  it("500: the API failing to save is an upstream_error, and the server keeps working", async () => {
    // Make the next save fail for real: the data file becomes a directory, so the atomic rename fails.
    const created = await call(t, "create_resource", { name: "Before the fault" });
    expect(created.isError).toBe(false);
    rmSync(upstream.dataFile);
    mkdirSync(upstream.dataFile);
    try {
      const res = await call(t, "create_resource", { name: "During the fault" });
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/upstream_error/);
      expect(res.text).toMatch(/500/);
      expect(res.text).toContain("could not complete the request; try again");
    } finally {
      rmSync(upstream.dataFile, { recursive: true });
    }
    expect((await call(t, "get_resource", { id: created.data.id })).isError).toBe(false);
  });

  it("down: a refused connection says where the API was expected and how to point at it", async () => {
    const c = await client({ baseUrl: "http://127.0.0.1:9" });
    try {
      const res = await call(c, "list_resources", {});
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/upstream_unavailable/);
      expect(res.text).toContain(
        "Is the API running at http://127.0.0.1:9? Start it, or point EXAMPLE_API_BASE_URL at it.",
      );
    } finally {
      await c.close();
    }
  }, 30_000);
});
