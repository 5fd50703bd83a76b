import { defineServer, defineTool, z } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callTool, createTestClient, startTestHttpServer, type TestHttpServer } from "../src/index.js";

// ctx.transport: a handler learns which transport its call came on and the largest message it takes
// (--max-body-bytes), to size big answers; over stdio it is checked end to end by data-analytics'
// paging test (its pages shrink to the bin's --max-body-bytes).
const where = defineTool({
  name: "where",
  title: "Name the transport",
  description: "Answers with the transport this call came on and its message limit.",
  input: z.object({}),
  output: z.object({ kind: z.string(), maxMessageBytes: z.number().nullable() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: (_args, ctx) => ({
    kind: ctx.transport.kind,
    maxMessageBytes: ctx.transport.maxMessageBytes ?? null,
  }),
});
const def = defineServer({ name: "transport-info", version: "1.0.0", tools: [where] });

describe("ctx.transport", () => {
  let http: TestHttpServer;
  beforeAll(async () => {
    http = await startTestHttpServer(def, { maxBodyBytes: 65_536 });
  });
  afterAll(() => http.close());

  it("is in-process, without a limit, for a linked pair", async () => {
    const t = await createTestClient(def);
    try {
      expect((await callTool(t.client, "where", {})).data).toEqual({
        kind: "in-process",
        maxMessageBytes: null,
      });
    } finally {
      await t.close();
    }
  });

  it.each(["legacy", "modern"] as const)("is HTTP with its body limit, on the %s era", async (era) => {
    const client = await http.connect({}, undefined, era);
    try {
      expect((await callTool(client, "where", {})).data).toEqual({ kind: "http", maxMessageBytes: 65_536 });
    } finally {
      await client.close();
    }
  });
});
