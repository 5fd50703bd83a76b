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
  "create_or_update_file",
  "push_files",
  "create_branch",
  "repository_write",
  "list_issues",
  "get_issue",
  "search_issues",
  "issue_write",
  "add_issue_comment",
  "list_issue_options",
  "sub_issue_write",
  "list_pull_requests",
  "pull_request_read",
  "pull_request_write",
  "merge_pull_request",
  "pull_request_review_write",
  "search_users",
  "copilot_write",
];

runContractTests(server, { tools: DEFAULT_TOOLS });

it("keeps tool names, descriptions and schemas stable (snapshot of every toolset)", () =>
  expectToolsSnapshot(server, { config: configSchema.parse({ toolsets: ["all"] }) }));

describe("context size", () => {
  // Output schemas for every tool cost about 12.1 KB of this (half the official default's was the
  // limit while they were empty); the official server declares none. Without them the list is 19.9 KB.
  it("keeps the default tools/list, output schemas included, at or under 32,100 bytes (0.56 of the official default's) of compact JSON, as a client receives it", async () => {
    const t = await createTestClient(server);
    try {
      const { tools } = await t.client.listTools();
      const bytes = Buffer.byteLength(JSON.stringify(tools));
      expect(bytes).toBeLessThanOrEqual(32_100);
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
    expect(tools.map((t) => t.name)).not.toContain("merge_pull_request");
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
    const all = names({ ...base, toolsets: ["all"], excludeTools: ["merge_pull_request"] });
    expect(all).toHaveLength(ALL_TOOLS.length - 1);
    expect(all).not.toContain("merge_pull_request");
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
