import { recordChanges, type TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { tempDir } from "./backends.js";
import { call, client } from "./helpers.js";

// Collections announce their changes: collection://{name} updated on upsert, delete and
// build_index; the resource list changed on create and delete (2025 client, in process).
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const data = tempDir();
let t: TestClient;

beforeAll(async () => {
  t = await client({ dataDir: data.dir });
});
afterAll(async () => {
  await t.close();
  data.cleanup();
});

const UPDATED = "notifications/resources/updated";
const LIST = "notifications/resources/list_changed";

describe("collection change notifications", () => {
  it("advertises them, and sends them for the collection subscribed to", async () => {
    expect(t.client.getServerCapabilities()?.resources).toEqual({ subscribe: true, listChanged: true });
    const seen = recordChanges(t.client);
    const made = await call(t, "create_collection", { name: "vecs", embedder: "none", dimension: 3 });
    expect(made.isError, made.text).toBeFalsy();
    await seen.until(LIST);
    await t.client.subscribeResource({ uri: "collection://vecs" });
    const up = await call(t, "upsert_documents", {
      collection: "vecs",
      documents: [{ id: "x", vector: [1, 0, 0] }],
    });
    expect(up.isError, up.text).toBeFalsy();
    await seen.until(UPDATED, "collection://vecs");
    const gone = await call(t, "delete_collection", { name: "vecs" });
    expect(gone.isError, gone.text).toBeFalsy();
    await seen.until(LIST);
    await new Promise((r) => setTimeout(r, 50)); // in process: anything else would be here by now
    expect(seen.seen).toEqual([
      { method: LIST },
      { method: UPDATED, uri: "collection://vecs" },
      { method: UPDATED, uri: "collection://vecs" },
      { method: LIST },
    ]);
  });
});
