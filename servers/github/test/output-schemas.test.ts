import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Recording } from "./fake-github.js";
import { call, harness, type Harness } from "./helpers.js";

/*
 * Every tool declares what it answers. The SDK client checks each answer against the listed schema
 * (the kit checks it before sending too), so every call in these tests is also a schema check; this
 * file covers the tools no other test calls.
 */

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  additionalProperties?: unknown;
};

/** Every object in a schema, with where it is. */
function objects(schema: Schema, at: string): [string, Schema][] {
  const out: [string, Schema][] = [];
  if (schema.type === "object") out.push([at, schema]);
  for (const [k, v] of Object.entries(schema.properties ?? {})) out.push(...objects(v, `${at}.${k}`));
  if (schema.items) out.push(...objects(schema.items, `${at}[]`));
  // A map (rate limits by resource) declares its values instead of its keys.
  const values = schema.additionalProperties as Schema | undefined;
  if (values?.type === "object") out.push(...objects(values, `${at}{}`));
  return out;
}

const ok = (path: string, response: unknown): Recording => ({
  method: "get",
  path,
  status: 200,
  response,
  headers: { "content-type": "application/json; charset=utf-8" },
});
const R = { owner: "octocat", repo: "Hello-World" };

describe("output schemas", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(
      [
        [
          ok("/repos/octocat/Hello-World/code-scanning/alerts", [
            {
              number: 4,
              state: "open",
              created_at: "2020-02-13T12:29:18Z",
              html_url: "https://github.com/octocat/Hello-World/code-scanning/4",
              rule: {
                id: "js/zipslip",
                severity: "error",
                security_severity_level: "high",
                description: "Zip Slip",
              },
              tool: { name: "CodeQL", version: "2.4.0" },
              most_recent_instance: { location: { path: "spec-main/api-session-spec.ts", start_line: 917 } },
            },
          ]),
          ok("/repos/octocat/Hello-World/dependabot/alerts", [
            {
              number: 2,
              state: "dismissed",
              dependency: {
                package: { ecosystem: "pip", name: "django" },
                manifest_path: "path/to/requirements.txt",
              },
              security_advisory: {
                ghsa_id: "GHSA-rf4j-j272-fj86",
                summary: "Django allows SQL injection",
                severity: "high",
              },
              security_vulnerability: { first_patched_version: { identifier: "2.0.2" } },
              html_url: "https://github.com/octocat/Hello-World/security/dependabot/2",
            },
          ]),
          ok("/user/starred", [
            {
              full_name: "octocat/Hello-World",
              description: "My first repository",
              private: false,
              language: "Ruby",
              stargazers_count: 80,
              topics: ["octocat"],
              html_url: "https://github.com/octocat/Hello-World",
            },
          ]),
        ],
      ],
      { toolsets: ["all"] },
      // Every toolset is more tools than the kit lists before it turns to search mode: list them all.
      { toolMode: "all" },
    );
  });
  afterAll(() => h.close());

  it("lists a real schema for every tool: typed fields, none required, nothing undeclared", async () => {
    const { tools } = await h.client.listTools();
    expect(tools.length).toBeGreaterThan(30);
    for (const tool of tools) {
      const schema = tool.outputSchema as Schema;
      for (const [at, o] of objects(schema, tool.name)) {
        if ((o.additionalProperties as Schema | undefined)?.type === "object") continue; // a map, typed
        // An object with no properties, or one open to anything, says nothing about the answer.
        expect(Object.keys(o.properties ?? {}).length, `${at} lists no fields`).toBeGreaterThan(0);
        // The kit's list leaves out zod's `additionalProperties: false` (bytes in every context; the kit
        // parses each answer with the tool's own schema, which drops undeclared keys, and the answers
        // below are compared whole), so a listed object says nothing or `false`, never "anything goes".
        expect([undefined, false], `${at} is open to any field`).toContain(o.additionalProperties);
        // `fields` keeps only some fields of each item, and empty ones are left out: none is required.
        expect(o.required, `${at} requires fields`).toBeUndefined();
        for (const [k, v] of Object.entries(o.properties ?? {})) {
          expect(v.type, `${at}.${k} has no type`).toBeDefined();
        }
      }
    }
  });

  it("answers code scanning, Dependabot and starred lists within their schemas, `fields` too", async () => {
    const code = await call(h.client, "code_scanning_alerts", R);
    expect(code.data.items).toEqual([
      {
        number: 4,
        state: "open",
        rule: "js/zipslip",
        severity: "high",
        description: "Zip Slip",
        tool: "CodeQL",
        path: "spec-main/api-session-spec.ts",
        line: 917,
        created_at: "2020-02-13T12:29:18Z",
        url: "https://github.com/octocat/Hello-World/code-scanning/4",
      },
    ]);
    const deps = await call(h.client, "dependabot_alerts", R);
    expect(deps.data.items).toEqual([
      {
        number: 2,
        state: "dismissed",
        package: "django",
        ecosystem: "pip",
        manifest: "path/to/requirements.txt",
        severity: "high",
        ghsa_id: "GHSA-rf4j-j272-fj86",
        summary: "Django allows SQL injection",
        fixed_in: "2.0.2",
        url: "https://github.com/octocat/Hello-World/security/dependabot/2",
      },
    ]);
    const starred = await call(h.client, "list_starred_repositories", {});
    expect(starred.data.items).toEqual([
      {
        full_name: "octocat/Hello-World",
        description: "My first repository",
        private: false,
        language: "Ruby",
        stars: 80,
        topics: ["octocat"],
      },
    ]);
    const some = await call(h.client, "list_starred_repositories", { fields: ["full_name", "stars"] });
    expect(some.isError).toBeUndefined();
    expect(some.data.items).toEqual([{ full_name: "octocat/Hello-World", stars: 80 }]);
  });
});
