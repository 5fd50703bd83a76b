import { expectToolsSnapshot, runContractTests } from "@toolshed/testing/contract";
import { createTestClient } from "@toolshed/testing";
import { UsageError } from "@toolshed/server";
import { describe, expect, it } from "vitest";
import { toolsListBytes } from "../src/context-size.js";
import server, { configSchema } from "../src/server.js";
import { ALL_TOOLS, selectTools } from "../src/toolsets.js";

const DEFAULT_TOOLS = [
  "get_me",
  "search_repositories",
  "get_file_contents",
  "list_commits",
  "get_commit",
  "list_refs",
  "push_files",
  "repository_write",
  "list_issues",
  "get_issue",
  "search_issues",
  "issue_write",
  "list_issue_options",
  "list_pull_requests",
  "pull_request_read",
  "pull_request_write",
  "search_users",
  "copilot_write",
];

runContractTests(server, { tools: DEFAULT_TOOLS });

it("keeps tool names, descriptions and schemas stable (snapshot of every toolset)", () =>
  expectToolsSnapshot(server, { config: configSchema.parse({ toolsets: ["all"] }) }));

describe("context size", () => {
  // Output schemas for every tool cost about 11.3 KB of this; the official server declares none.
  // 28,400 was the limit while they were empty: small writes merged into the consolidated tools
  // (issue_write, pull_request_write, repository_write, push_files) brought the list back under it.
  it("keeps the default tools/list, output schemas included, at or under 28,400 bytes (0.5 of the official default's) of compact JSON, as a client receives it", async () => {
    const t = await createTestClient(server);
    try {
      const { tools } = await t.client.listTools();
      const bytes = Buffer.byteLength(JSON.stringify(tools));
      expect(bytes).toBeLessThanOrEqual(28_400);
      expect(tools.every((tool) => Object.keys(tool.outputSchema?.properties ?? {}).length > 0)).toBe(true);
      // The context-size script measures the same thing the client receives (give or take key order).
      expect(Math.abs(toolsListBytes().bytes - bytes)).toBeLessThan(200);
    } finally {
      await t.close();
    }
  });
});

describe("toolset selection", () => {
  const names = (config: Parameters<typeof selectTools>[0]) => selectTools(config).map((t) => t.name);
  const base = { tools: [], excludeTools: [], readOnly: false };

  it("defaults to the six default toolsets", () => {
    expect(names({ ...base, toolsets: undefined })).toEqual(DEFAULT_TOOLS);
  });

  it("lists no write tool in read-only mode", () => {
    const tools = selectTools({ ...base, toolsets: ["all"], readOnly: true });
    expect(tools.length).toBeGreaterThan(10);
    for (const t of tools) expect(t.annotations.readOnlyHint, t.name).toBe(true);
    expect(tools.map((t) => t.name)).not.toContain("pull_request_write");
  });

  it("combines toolsets, tools and exclusions", () => {
    expect(names({ ...base, toolsets: ["actions"] })).toEqual(["actions_read", "actions_run_write"]);
    expect(names({ ...base, toolsets: undefined, tools: ["get_issue", "get_me"] })).toEqual([
      "get_me",
      "get_issue",
    ]);
    expect(names({ ...base, toolsets: ["context"], tools: ["search_users"] })).toEqual([
      "get_me",
      "search_users",
    ]);
    const all = names({ ...base, toolsets: ["all"], excludeTools: ["get_commit"] });
    expect(all).toHaveLength(ALL_TOOLS.length - 1);
    expect(all).not.toContain("get_commit");
  });

  it("takes the names of tools merged into another (the official server's too) as that tool", () => {
    const tools = ["create_branch", "add_issue_comment", "create_or_update_file", "merge_pull_request"];
    expect(names({ ...base, toolsets: undefined, tools })).toEqual([
      "push_files",
      "repository_write",
      "issue_write",
      "pull_request_write",
    ]);
    const without = names({
      ...base,
      toolsets: undefined,
      excludeTools: ["sub_issue_write", "pull_request_review_write"],
    });
    expect(without).not.toContain("issue_write");
    expect(without).not.toContain("pull_request_write");
    expect(without).toContain("push_files");
  });

  it("refuses unknown toolsets and tools with the valid names", () => {
    expect(() => selectTools({ ...base, toolsets: ["repo"] })).toThrow(UsageError);
    expect(() => selectTools({ ...base, toolsets: ["repo"] })).toThrow(
      /toolsets are: default, all, context, repos/,
    );
    expect(() => selectTools({ ...base, toolsets: undefined, tools: ["get_issues"] })).toThrow(
      /unknown tool 'get_issues'/,
    );
  });
});

describe("calling a tool this configuration does not serve", () => {
  async function callError(config: Record<string, unknown>, name: string): Promise<string> {
    const t = await createTestClient(server, { config: configSchema.parse(config) });
    try {
      const err = await t.client.callTool({ name, arguments: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `a call of ${name} is refused`).toBeInstanceOf(Error);
      return (err as Error).message;
    } finally {
      await t.close();
    }
  }

  it("names our tool for the official server's name, with how to call it", async () => {
    expect(await callError({}, "create_or_update_file")).toMatch(
      /unknown tool 'create_or_update_file' \(the official server's create_or_update_file is push_files here, one file \(its `sha` to update\)\); call tools\/list/,
    );
  });

  it("names the toolset that holds a tool the server was started without", async () => {
    expect(await callError({ toolsets: ["repos"] }, "get_issue")).toMatch(
      /get_issue is in the issues toolset, which this server was not started with \(add it to --toolsets/,
    );
    expect(await callError({ toolsets: ["repos"] }, "add_issue_comment")).toMatch(
      /is issue_write here, `method: comment`; issue_write is in the issues toolset/,
    );
  });

  it("says read-only and --exclude-tools left a tool out", async () => {
    expect(await callError({ readOnly: true }, "issue_write")).toMatch(
      /issue_write writes, and this server runs read-only/,
    );
    expect(await callError({ excludeTools: ["push_files"] }, "push_files")).toMatch(
      /push_files is excluded by --exclude-tools/,
    );
  });

  it("keeps the plain unknown-tool error for a name nobody serves", async () => {
    expect(await callError({}, "get_issues")).toMatch(
      /^unknown tool 'get_issues'; call tools\/list to see the available tools$/,
    );
  });
});
