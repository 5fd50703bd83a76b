import {
  actAsPerson,
  CONFIRMED,
  type PersonReply,
  callTool,
  type Client,
  modernCall,
  startTestHttpServer,
  confirmWithTamperedState,
  textOf,
  type Era,
  type TestHttpServer,
} from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { tempDir } from "./backends.js";

// delete_collection and delete_documents by filter ask a person first; search and collection_info ask
// which collection was meant when the name matches none but resembles several. Real HTTP, real SDK
// client on both eras, PGlite, caller vectors (no model to load).

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

describe.each<{ era: Era }>([{ era: "modern" }, { era: "legacy" }])(
  "vector-search asks ($era client)",
  ({ era }) => {
    const data = tempDir();
    const unattended = tempDir();
    let srv: TestHttpServer;
    let never: TestHttpServer;
    let admin: Client;

    const docs = (collection: string, n: number) =>
      callTool(admin, "upsert_documents", {
        collection,
        documents: Array.from({ length: n }, (_, i) => ({
          id: `d${i}`,
          vector: [1, i, 0],
          metadata: { kind: i % 2 ? "odd" : "even" },
        })),
      });
    const count = async (client: Client, name: string) =>
      (await callTool(client, "collection_info", { name })).data.count as number;

    beforeAll(async () => {
      srv = await startTestHttpServer(server, {}, { config: configSchema.parse({ dataDir: data.dir }) });
      never = await startTestHttpServer(
        server,
        {},
        { config: configSchema.parse({ dataDir: unattended.dir }), confirm: "never" },
      );
      admin = await srv.connect({}, undefined, era);
      for (const name of ["notes", "notes_2023", "notes_2024"]) {
        await callTool(admin, "create_collection", { name, embedder: "none", dimension: 3 });
        await docs(name, 4);
      }
    });
    afterAll(async () => {
      await admin.close();
      await Promise.all([srv.close(1_000), never.close(1_000)]);
      data.cleanup();
      unattended.cleanup();
    });

    it("delete_documents by filter: declined deletes nothing and says so; accepted deletes the matches", async () => {
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      let reply: PersonReply = { action: "decline" };
      const asked = actAsPerson(client, () => reply);
      const filter = { field: "kind", op: "eq", value: "odd" };
      const no = await callTool(client, "delete_documents", { collection: "notes", filter });
      expect(no.isError).toBeFalsy();
      expect(no.data).toMatchObject({ deleted: 0, declined: expect.stringContaining("Nothing was done") });
      expect(await count(client, "notes")).toBe(4);
      reply = CONFIRMED;
      const ok = await callTool(client, "delete_documents", { collection: "notes", filter });
      expect(ok.data).toEqual({ collection: "notes", deleted: 2 });
      expect(asked).toEqual([
        `Delete 2 documents of collection 'notes' matching {"field":"kind","op":"eq","value":"odd"}? There is no undo.`,
        `Delete 2 documents of collection 'notes' matching {"field":"kind","op":"eq","value":"odd"}? There is no undo.`,
      ]);
      // By ids, nothing is asked: the caller named exactly what goes.
      expect(
        (await callTool(client, "delete_documents", { collection: "notes", ids: ["d0"] })).data.deleted,
      ).toBe(1);
      expect(asked).toHaveLength(2);
      await client.close();
    });

    it("delete_collection: asks with the document count; declined keeps it, accepted deletes it", async () => {
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      let reply: PersonReply = { action: "cancel" };
      const asked = actAsPerson(client, () => reply);
      const no = await callTool(client, "delete_collection", { name: "notes_2023" });
      expect(no.isError).toBeFalsy();
      expect(no.text).toMatch(
        /^Nothing was done: the user did not confirm deleting collection 'notes_2023' and its 4 documents/,
      );
      expect(await count(client, "notes_2023")).toBe(4);
      reply = CONFIRMED;
      const ok = await callTool(client, "delete_collection", { name: "notes_2023" });
      expect(ok.data).toEqual({ name: "notes_2023", deletedDocuments: 4 });
      expect(asked).toEqual([
        "Delete collection 'notes_2023' and all 4 of its documents? There is no undo.",
        "Delete collection 'notes_2023' and all 4 of its documents? There is no undo.",
      ]);
      await client.close();
    });

    it("asks which collection was meant when the name matches none but resembles several", async () => {
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      const asked: { message: string; choices: unknown }[] = [];
      client.setRequestHandler("elicitation/create", (request) => {
        const params = request.params as {
          requestedSchema?: { properties: { choice?: { enum?: unknown } } };
        };
        const schema = params.requestedSchema ?? { properties: {} };
        asked.push({ message: request.params.message, choices: schema.properties.choice?.enum });
        return { action: "accept", content: { choice: "notes_2024" } };
      });
      const r = await callTool(client, "search", { collection: "NOTES_", vector: [1, 0, 0], top_k: 1 });
      expect(r.isError).toBeFalsy();
      expect(r.data).toMatchObject({ collection: "notes_2024" });
      expect(asked).toEqual([
        { message: "There is no collection 'NOTES_'. Which one did you mean?", choices: ["notes_2024"] },
      ]);
      await client.close();
    });

    it("a client without elicitation: destructive calls refused naming --confirm never; choices listed in the error", async () => {
      const client = await srv.connect({}, undefined, era);
      const r = await callTool(client, "delete_collection", { name: "notes_2024" });
      expect(r.isError).toBe(true);
      expect(r.text).toContain("nothing was done");
      expect(r.text).toContain("--confirm never (TOOLSHED_CONFIRM=never)");
      expect(await count(client, "notes_2024")).toBe(4);
      const which = await callTool(client, "collection_info", { name: "note" });
      expect(which.isError).toBe(true);
      expect(which.text).toMatch(/collection 'note' not found; did you mean 'notes', 'notes_2024'\?/);
      await client.close();
    });

    it("--confirm never: deletes without asking", async () => {
      const client = await never.connect({ elicitation: {} }, undefined, era);
      const asked = actAsPerson(client, () => CONFIRMED);
      await callTool(client, "create_collection", { name: "scratch", embedder: "none", dimension: 3 });
      await callTool(client, "upsert_documents", {
        collection: "scratch",
        documents: [{ id: "a", vector: [1, 0, 0], metadata: { kind: "x" } }],
      });
      const byFilter = await callTool(client, "delete_documents", {
        collection: "scratch",
        filter: { field: "kind", op: "eq", value: "x" },
      });
      expect(byFilter.data).toEqual({ collection: "scratch", deleted: 1 });
      const gone = await callTool(client, "delete_collection", { name: "scratch" });
      expect(gone.data).toEqual({ name: "scratch", deletedDocuments: 0 });
      expect(asked).toEqual([]);
      expect(textOf(await client.callTool({ name: "list_collections", arguments: {} }))).not.toContain(
        "scratch",
      );
      await client.close();
    });
  },
);

describe("a tampered requestState on delete_collection's retry (2026-07-28)", () => {
  const data = tempDir();
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(
      server,
      {},
      { config: configSchema.parse({ dataDir: data.dir }), requestStateKeys: ["v".repeat(40)] },
    );
    const admin = await srv.connect({}, undefined, "modern");
    await callTool(admin, "create_collection", { name: "keep", embedder: "none", dimension: 3 });
    await admin.close();
  });
  afterAll(async () => {
    await srv.close(1_000);
    data.cleanup();
  });

  it("is refused with -32602 and the collection stays", async () => {
    const retry = await confirmWithTamperedState(srv.url, "delete_collection", { name: "keep" });
    expect(retry.error).toMatchObject({ code: -32602, message: expect.stringContaining("integrity check") });
    const info = await modernCall(srv.url, "tools/call", {
      name: "collection_info",
      arguments: { name: "keep" },
    });
    expect((info.result as { isError?: boolean }).isError).toBeFalsy();
  });
});
