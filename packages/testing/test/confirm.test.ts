import { defineServer, defineTool, similarNames, z, type ConfirmPolicy } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  actAsPerson,
  modernCall,
  type PersonReply,
  startTestHttpServer,
  tamperedState,
  textOf,
  type Era,
  type TestHttpServer,
} from "../src/index.js";

// ctx.confirm and ctx.choose: one confirmation mechanism for every server, honouring --confirm, on
// both protocol eras (input_required + signed requestState on 2026-07-28, elicitation/create on 2025).

const dropped: string[] = [];
let titleLookups = 0;
const TABLES = ["orders", "orders_2024", "orders_archive", "users"];

const drop = defineTool({
  name: "drop_table",
  title: "Drop a table",
  description: "Drops a table. Asks the user to confirm first.",
  input: z.object({ table: z.string().describe("The table") }),
  output: z.object({ dropped: z.boolean(), message: z.string() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  handler: async ({ table }, ctx) => {
    let name = TABLES.includes(table) ? table : undefined;
    if (name === undefined) {
      const pick = await ctx.choose(`No table '${table}'. Which one?`, similarNames(table, TABLES));
      if (pick.action !== "accept")
        return { dropped: false, message: `no table '${table}' (${pick.action})` };
      name = pick.value;
    }
    const chosen = name;
    const ok = await ctx.confirm(() => {
      titleLookups += 1; // a lookup the message needs: only made when someone is asked
      return `Drop table '${chosen}' and its 12 rows?`;
    });
    if (!ok) return { dropped: false, message: "Nothing was done: the user did not confirm." };
    dropped.push(chosen);
    return { dropped: true, message: `dropped ${chosen}` };
  },
});
const def = defineServer({ name: "tables", version: "0.0.0", tools: [drop] });

describe.each<{ era: Era }>([{ era: "modern" }, { era: "legacy" }])(
  "ctx.confirm ($era client)",
  ({ era }) => {
    let srv: TestHttpServer;
    let never: TestHttpServer;
    beforeAll(async () => {
      srv = await startTestHttpServer(def);
      never = await startTestHttpServer(def, {}, { confirm: "never" satisfies ConfirmPolicy });
    });
    afterAll(async () => Promise.all([srv.close(1_000), never.close(1_000)]));

    it("asks, and acts once when the person accepts", async () => {
      dropped.length = 0;
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      const asked = actAsPerson(client, () => ({ action: "accept", content: { confirm: true } }));
      const r = await client.callTool({ name: "drop_table", arguments: { table: "users" } });
      expect(r.structuredContent).toEqual({ dropped: true, message: "dropped users" });
      expect(asked).toEqual(["Drop table 'users' and its 12 rows?"]);
      expect(dropped).toEqual(["users"]);
      await client.close();
    });

    it.each<[string, PersonReply]>([
      ["declines", { action: "decline" }],
      ["cancels", { action: "cancel" }],
      ["accepts with the box unticked", { action: "accept", content: { confirm: false } }],
    ])("does nothing, as a plain result, when the person %s", async (_, reply) => {
      dropped.length = 0;
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      const asked = actAsPerson(client, () => reply);
      const r = await client.callTool({ name: "drop_table", arguments: { table: "users" } });
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toMatchObject({
        dropped: false,
        message: expect.stringContaining("Nothing"),
      });
      expect(asked).toHaveLength(1);
      expect(dropped).toEqual([]);
      await client.close();
    });

    it("asks which one when a name is ambiguous, then confirms the one picked", async () => {
      dropped.length = 0;
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      const schemas: unknown[] = [];
      client.setRequestHandler("elicitation/create", (request): PersonReply => {
        const params = request.params as { message: string; requestedSchema?: unknown };
        schemas.push(params.requestedSchema);
        return params.message.startsWith("No table")
          ? { action: "accept", content: { choice: "orders_2024" } }
          : { action: "accept", content: { confirm: true } };
      });
      const r = await client.callTool({ name: "drop_table", arguments: { table: "order" } });
      expect(r.structuredContent).toEqual({ dropped: true, message: "dropped orders_2024" });
      expect(schemas[0]).toMatchObject({
        properties: { choice: { type: "string", enum: ["orders", "orders_2024", "orders_archive"] } },
      });
      expect(dropped).toEqual(["orders_2024"]);
      await client.close();
    });

    it("refuses, doing nothing, a client without elicitation, naming the capability and --confirm never", async () => {
      dropped.length = 0;
      const client = await srv.connect({}, undefined, era);
      const r = await client.callTool({ name: "drop_table", arguments: { table: "users" } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/nothing was done: this needs a person to confirm \(Drop table 'users'/);
      expect(textOf(r)).toContain("'elicitation' capability");
      expect(textOf(r)).toContain("--confirm never (TOOLSHED_CONFIRM=never)");
      expect(dropped).toEqual([]);
      await client.close();
    });

    it("--confirm never: acts without asking, and never builds the message; choices are not asked", async () => {
      dropped.length = 0;
      titleLookups = 0;
      const client = await never.connect({ elicitation: {} }, undefined, era);
      const asked = actAsPerson(client, () => ({ action: "accept", content: { confirm: true } }));
      const r = await client.callTool({ name: "drop_table", arguments: { table: "users" } });
      expect(r.structuredContent).toEqual({ dropped: true, message: "dropped users" });
      const ambiguous = await client.callTool({ name: "drop_table", arguments: { table: "order" } });
      expect(ambiguous.structuredContent).toEqual({
        dropped: false,
        message: "no table 'order' (unavailable)",
      });
      expect(asked).toEqual([]);
      expect(titleLookups).toBe(0);
      expect(dropped).toEqual(["users"]);
      await client.close();
    });
  },
);

describe("a 2025 client of a --stateless server", () => {
  it("is refused a confirmation at once, naming why and --confirm never, and nothing is done", async () => {
    dropped.length = 0;
    const srv = await startTestHttpServer(def, { stateless: true });
    const client = await srv.connect({ elicitation: {} });
    try {
      const asked = actAsPerson(client, () => ({ action: "accept", content: { confirm: true } }));
      const r = await client.callTool({ name: "drop_table", arguments: { table: "users" } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("this server runs --stateless");
      expect(textOf(r)).toContain("--confirm never (TOOLSHED_CONFIRM=never)");
      expect(asked).toEqual([]);
      expect(dropped).toEqual([]);
    } finally {
      await client.close();
      await srv.close(1_000);
    }
  });
});

describe("a confirmation's requestState (2026-07-28)", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(def, {}, { requestStateKeys: ["k".repeat(40)] });
  });
  afterAll(async () => srv.close(1_000));

  const first = async (table: string) => {
    const r = await modernCall(srv.url, "tools/call", { name: "drop_table", arguments: { table } });
    const result = r.result as { resultType: string; requestState: string; inputRequests: object };
    expect(result.resultType).toBe("input_required");
    return result;
  };

  it("keys the question by what it shows, and acts on the retry with the answer", async () => {
    dropped.length = 0;
    const { requestState, inputRequests } = await first("users");
    const [key] = Object.keys(inputRequests);
    expect(key).toMatch(/^confirm-[0-9a-f]{12}$/);
    const r = await modernCall(srv.url, "tools/call", {
      name: "drop_table",
      arguments: { table: "users" },
      inputResponses: { [key!]: { action: "accept", content: { confirm: true } } },
      requestState,
    });
    expect((r.result as { structuredContent: unknown }).structuredContent).toEqual({
      dropped: true,
      message: "dropped users",
    });
    expect(dropped).toEqual(["users"]);
  });

  it("refuses a tampered state on the confirmation's retry, and does nothing", async () => {
    dropped.length = 0;
    // Answer the choice, get the confirmation round, then tamper with its state.
    const round1 = await first("order");
    const round2 = await modernCall(srv.url, "tools/call", {
      name: "drop_table",
      arguments: { table: "order" },
      inputResponses: { choice: { action: "accept", content: { choice: "orders" } } },
      requestState: round1.requestState,
    });
    const second = round2.result as { requestState: string; inputRequests: object };
    const [key] = Object.keys(second.inputRequests);
    expect(key).toMatch(/^confirm-/);
    const r = await modernCall(srv.url, "tools/call", {
      name: "drop_table",
      arguments: { table: "order" },
      inputResponses: { [key!]: { action: "accept", content: { confirm: true } } },
      requestState: tamperedState(second.requestState),
    });
    expect(r.error).toMatchObject({ code: -32602, message: expect.stringContaining("integrity check") });
    expect(dropped).toEqual([]);
  });

  it("a confirmation answered for another table is asked again, not carried over", async () => {
    dropped.length = 0;
    const forUsers = await first("users");
    const [key] = Object.keys(forUsers.inputRequests);
    // The state and answer of 'users' replayed with other arguments: bound to another call.
    const r = await modernCall(srv.url, "tools/call", {
      name: "drop_table",
      arguments: { table: "orders" },
      inputResponses: { [key!]: { action: "accept", content: { confirm: true } } },
      requestState: forUsers.requestState,
    });
    expect(r.error).toMatchObject({ code: -32602, message: expect.stringContaining("another call") });
    // Without the state, the answer's key does not match what 'orders' shows: asked, not dropped.
    const fresh = await modernCall(srv.url, "tools/call", {
      name: "drop_table",
      arguments: { table: "orders" },
      inputResponses: { [key!]: { action: "accept", content: { confirm: true } } },
    });
    expect((fresh.result as { resultType: string }).resultType).toBe("input_required");
    expect(dropped).toEqual([]);
  });
});

describe("similarNames", () => {
  it("ranks another case, then prefixes, then parts, and finds nothing in unrelated names", () => {
    expect(similarNames("Sales", ["sales_2024", "old_sales", "SALES", "users"])).toEqual([
      "SALES",
      "sales_2024",
      "old_sales",
    ]);
    expect(similarNames("x", ["alpha", "beta"])).toEqual([]);
    expect(similarNames("", ["alpha"])).toEqual([]);
    expect(similarNames("a", ["a1", "a2", "a3"], 2)).toEqual(["a1", "a2"]);
  });
});
