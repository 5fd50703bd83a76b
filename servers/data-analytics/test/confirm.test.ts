import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
  ASKING_CAPABILITIES,
  actAsPerson,
  CONFIRMED,
  type PersonReply,
  callTool,
  type Client,
  modernCall,
  startTestHttpServer,
  confirmWithTamperedState,
  type Era,
  type TestHttpServer,
} from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { configSchema } from "../src/config.js";
import server from "../src/server.js";
import { tempDataDir } from "./helpers.js";

// register_dataset / load_inline_dataset / transform replacing a dataset and export_dataset
// overwriting a file ask a person first; tools reading a dataset ask which one was meant when the
// name matches none but resembles several. Real HTTP, real SDK client on both eras, real DuckDB.

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const INLINE = '[{"a":1},{"a":2},{"a":3}]';

describe.each<{ era: Era }>([{ era: "modern" }, { era: "legacy" }])(
  "data-analytics asks ($era client)",
  ({ era }) => {
    const data = tempDataDir();
    const unattended = tempDataDir();
    let srv: TestHttpServer;
    let never: TestHttpServer;
    let admin: Client;
    const rows = async (client: Client, name: string) =>
      (await callTool(client, "describe_dataset", { name })).data.rowCount as number;

    beforeAll(async () => {
      srv = await startTestHttpServer(server, {}, { config: configSchema.parse({ dataDir: data.dir }) });
      never = await startTestHttpServer(
        server,
        {},
        { config: configSchema.parse({ dataDir: unattended.dir }), confirm: "never" },
      );
      admin = await srv.connect({}, undefined, era);
      for (const name of ["sales", "sales_2023", "sales_2024"]) {
        const r = await callTool(admin, "register_dataset", { name, path: "sales.csv" });
        expect(r.isError, r.text).toBeFalsy();
      }
    });
    afterAll(async () => {
      await admin.close();
      await Promise.all([srv.close(1_000), never.close(1_000)]);
      data.cleanup();
      unattended.cleanup();
    });

    it("register_dataset with replace: declined keeps the dataset and says so; accepted replaces it", async () => {
      const before = await rows(admin, "sales");
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      let reply: PersonReply = { action: "decline" };
      const asked = actAsPerson(client, () => reply);
      const no = await callTool(client, "load_inline_dataset", {
        name: "sales",
        data: INLINE,
        replace: true,
      });
      expect(no.isError).toBeFalsy();
      expect(no.text).toMatch(
        /^Nothing was done: the user did not confirm replacing dataset 'sales' \(\d+ rows/,
      );
      expect(no.data).toMatchObject({ name: "sales", rowCount: before, declined: expect.any(String) });
      expect(await rows(client, "sales")).toBe(before);
      reply = CONFIRMED;
      const ok = await callTool(client, "load_inline_dataset", {
        name: "sales",
        data: INLINE,
        replace: true,
      });
      expect(ok.data).toMatchObject({ name: "sales", rowCount: 3 });
      expect(ok.data.declined).toBeUndefined();
      expect(asked).toEqual([
        `Replace dataset 'sales' (${before} rows, 5 columns, from sales.csv) with the inline data? Its current rows are dropped.`,
        `Replace dataset 'sales' (${before} rows, 5 columns, from sales.csv) with the inline data? Its current rows are dropped.`,
      ]);
      // The registry case: a file over the (now 3-row) dataset, asked with what is there now.
      const back = await callTool(client, "register_dataset", {
        name: "sales",
        path: "sales.csv",
        replace: true,
      });
      expect(back.data).toMatchObject({ rowCount: before });
      expect(asked[2]).toBe(
        "Replace dataset 'sales' (3 rows, 1 columns, from inline) with 'sales.csv'? Its current rows are dropped.",
      );
      // A new name is not a replacement: nothing to ask.
      await callTool(client, "load_inline_dataset", { name: `fresh_${era}`, data: INLINE, replace: true });
      expect(asked).toHaveLength(3);
      await client.close();
    });

    it("export_dataset over an existing file: declined leaves the file; accepted overwrites it", async () => {
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      let reply: PersonReply = { action: "cancel" };
      const asked = actAsPerson(client, () => reply);
      const file = `sales_${era}.csv`;
      const target = path.join(data.dir, "exports", file);
      await callTool(client, "load_inline_dataset", { name: `tiny_${era}`, data: INLINE });
      expect((await callTool(client, "export_dataset", { name: "sales", file })).isError).toBeFalsy();
      expect(asked).toEqual([]); // a new file: nothing to ask
      const original = readFileSync(target, "utf8");
      const no = await callTool(client, "export_dataset", { name: `tiny_${era}`, file, replace: true });
      expect(no.isError).toBeFalsy();
      expect(no.text).toMatch(/^Nothing was done: the user did not confirm overwriting exports\//);
      expect(readFileSync(target, "utf8")).toBe(original);
      reply = CONFIRMED;
      const ok = await callTool(client, "export_dataset", { name: `tiny_${era}`, file, replace: true });
      expect(ok.data).toMatchObject({ rowCount: 3 });
      expect(readFileSync(target, "utf8")).toBe("a\n1\n2\n3\n");
      expect(asked).toHaveLength(2);
      expect(asked[0]).toMatch(
        new RegExp(
          `^Overwrite exports/${file} \\(${original.length} bytes, written .+\\) with the 3 rows of dataset 'tiny_${era}'\\?$`,
        ),
      );
      await client.close();
    });

    it("asks which dataset was meant when the name matches none but resembles several", async () => {
      const client = await srv.connect({ elicitation: {} }, undefined, era);
      const asked: { message: string; choices: unknown }[] = [];
      client.setRequestHandler("elicitation/create", (request) => {
        const params = request.params as {
          requestedSchema?: { properties: { choice?: { enum?: unknown } } };
        };
        const schema = params.requestedSchema ?? { properties: {} };
        asked.push({ message: request.params.message, choices: schema.properties.choice?.enum });
        return { action: "accept", content: { choice: "sales_2024" } };
      });
      const r = await callTool(client, "describe_dataset", { name: "Sales_20" });
      expect(r.isError, r.text).toBeFalsy();
      expect(r.data).toMatchObject({ name: "sales_2024" });
      expect(asked).toEqual([
        {
          message: "There is no dataset 'Sales_20'. Which one did you mean?",
          choices: ["sales_2023", "sales_2024"],
        },
      ]);
      await client.close();
    });

    it("a client without elicitation: replacing refused naming --confirm never; choices listed in the error", async () => {
      const client = await srv.connect({}, undefined, era);
      const r = await callTool(client, "load_inline_dataset", {
        name: "sales_2023",
        data: INLINE,
        replace: true,
      });
      expect(r.isError).toBe(true);
      expect(r.text).toContain("nothing was done");
      expect(r.text).toContain("'elicitation' capability");
      expect(r.text).toContain("--confirm never (TOOLSHED_CONFIRM=never)");
      expect(await rows(client, "sales_2023")).toBeGreaterThan(3);
      const which = await callTool(client, "analyze", { name: "sales_20" });
      expect(which.isError).toBe(true);
      expect(which.text).toContain("dataset 'sales_20' not found; did you mean 'sales_2023', 'sales_2024'?");
      await client.close();
    });

    it("--confirm never: replaces without asking", async () => {
      const client = await never.connect({ elicitation: {} }, undefined, era);
      const asked = actAsPerson(client, () => CONFIRMED);
      const name = `unattended_${era}`;
      await callTool(client, "load_inline_dataset", { name, data: INLINE });
      const again = await callTool(client, "load_inline_dataset", { name, data: '[{"b":1}]', replace: true });
      expect(again.data).toMatchObject({ name, rowCount: 1, columns: [{ name: "b" }] });
      expect(asked).toEqual([]);
      await client.close();
    });
  },
);

describe("a tampered requestState on register_dataset's retry (2026-07-28)", () => {
  const data = tempDataDir();
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(
      server,
      {},
      { config: configSchema.parse({ dataDir: data.dir }), requestStateKeys: ["d".repeat(40)] },
    );
    const admin = await srv.connect({}, undefined, "modern");
    await callTool(admin, "register_dataset", { name: "sales", path: "sales.csv" });
    await admin.close();
  });
  afterAll(async () => {
    await srv.close(1_000);
    data.cleanup();
  });

  it("is refused with -32602 and the dataset stays as it was", async () => {
    const args = { name: "sales", data: INLINE, replace: true };
    const retry = await confirmWithTamperedState(srv.url, "load_inline_dataset", args);
    expect(retry.error).toMatchObject({ code: -32602, message: expect.stringContaining("integrity check") });
    const described = await modernCall(srv.url, "tools/call", {
      name: "describe_dataset",
      arguments: { name: "sales" },
    });
    expect(
      (described.result as { structuredContent: { rowCount: number } }).structuredContent.rowCount,
    ).toBeGreaterThan(3);
    expect(existsSync(path.join(data.dir, "sales.csv"))).toBe(true);
  });
  it("export_dataset (a task tool) over a file, for a client of the tasks extension: asks on the call, before any task", async () => {
    // Its confirmation comes before the long work, so it is an input_required answer to the call
    // itself: no task is created for an export the person may decline.
    await modernCall(srv.url, "tools/call", {
      name: "export_dataset",
      arguments: { name: "sales", file: "task_asked.csv" },
    });
    const asked = await modernCall(
      srv.url,
      "tools/call",
      { name: "export_dataset", arguments: { name: "sales", file: "task_asked.csv", replace: true } },
      { ...ASKING_CAPABILITIES, extensions: { "io.modelcontextprotocol/tasks": {} } },
    );
    const result = asked.result as {
      resultType: string;
      inputRequests?: Record<string, { params: { message: string } }>;
    };
    expect(result.resultType).toBe("input_required");
    const [request] = Object.values(result.inputRequests ?? {});
    expect(request?.params.message).toMatch(/^Overwrite exports\/task_asked\.csv /);
  });
});
