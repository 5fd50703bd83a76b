// Search mode over the real tool lists of the four domain servers: the model sees three tools, finds
// the right one in the first three results for realistic requests, reads its schema and calls it.
import { connectHttpClient } from "@toolshed/testing";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startStackGateway, textOf, type TestGateway, type ToolResultShape } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

let gw: TestGateway;
let close: (() => Promise<void>) | undefined;
beforeAll(async () => {
  ({ gw, close } = await startStackGateway("", "search"));
});
afterAll(async () => {
  await close?.();
});

/** What a user asks for, and the tool(s) that do it. */
const QUERIES: [string, string[]][] = [
  ["open a new issue on a repository", ["github__issue_write"]],
  ["comment on an issue", ["github__issue_write"]],
  ["merge a pull request", ["github__pull_request_write"]],
  ["read a file from a git repository", ["github__get_file_contents"]],
  ["list recent commits on a branch", ["github__list_commits"]],
  ["create a new branch", ["github__repository_write"]],
  ["find repositories about machine learning", ["github__search_repositories"]],
  ["run a SQL query over a dataset", ["data-analytics__query"]],
  ["load a CSV file as a dataset", ["data-analytics__register_dataset"]],
  ["draw a bar chart of sales by month", ["data-analytics__chart"]],
  ["correlation between two columns", ["data-analytics__correlate"]],
  ["export a table to a parquet file", ["data-analytics__export_dataset"]],
  ["what columns does a dataset have", ["data-analytics__describe_dataset"]],
  ["semantic search over stored documents", ["vector-search__search"]],
  ["add documents to a vector collection", ["vector-search__upsert_documents"]],
  ["delete a vector collection", ["vector-search__delete_collection"]],
  ["turn text into an embedding vector", ["vector-search__embed_text"]],
  ["create a resource in the example API", ["example-api__create_resource"]],
  ["replace an existing example resource", ["example-api__update_resource"]],
  ["review the changes of a pull request", ["github__pull_request_read", "github__pull_request_write"]],
];

it("shows three tools (and read_result for large answers) instead of every schema", async () => {
  const client = await connectHttpClient(gw.url, {}, undefined, "modern");
  try {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["search_tools", "describe_tool", "call_tool", "read_result"]);
  } finally {
    await client.close();
  }
});

it(`finds the right tool in the top 3 for ${QUERIES.length} realistic requests`, async () => {
  const client = await connectHttpClient(gw.url, {}, undefined, "legacy");
  const misses: string[] = [];
  try {
    for (const [query, expected] of QUERIES) {
      const r = (await client.callTool({
        name: "search_tools",
        arguments: { query, limit: 3 },
      })) as ToolResultShape;
      expect(r.isError, textOf(r)).toBeFalsy();
      const names = (r.structuredContent as { results: { name: string }[] }).results.map((x) => x.name);
      expect(names.length).toBeLessThanOrEqual(3);
      if (!names.some((n) => expected.includes(n))) misses.push(`${query} -> ${names.join(", ")}`);
    }
  } finally {
    await client.close();
  }
  expect(misses).toEqual([]);
});

it("describes a tool and calls it through call_tool", async () => {
  const client = await connectHttpClient(gw.url, {}, undefined, "modern");
  try {
    const described = (await client.callTool({
      name: "describe_tool",
      arguments: { name: "example-api__create_resource" },
    })) as ToolResultShape;
    expect(described.structuredContent).toMatchObject({
      name: "example-api__create_resource",
      upstream: "example-api",
      inputSchema: { type: "object" },
    });
    const created = (await client.callTool({
      name: "call_tool",
      arguments: { name: "example-api__create_resource", arguments: { name: "from search mode" } },
    })) as ToolResultShape;
    expect(created.isError, textOf(created)).toBeFalsy();
    expect(created.structuredContent).toMatchObject({ name: "from search mode" });
    const unknown = (await client.callTool({
      name: "call_tool",
      arguments: { name: "nope__nothing", arguments: {} },
    })) as ToolResultShape;
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/no tool named 'nope__nothing'; call search_tools/);
  } finally {
    await client.close();
  }
});
