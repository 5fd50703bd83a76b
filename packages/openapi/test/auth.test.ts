// Auth and secrets the document does not declare, all from src/overrides.ts: GitHub's published
// description (@octokit/openapi, from npm) has no securitySchemes, so its token, API version header
// and the account the tools work on come from settings. A loopback upstream records every request;
// the real SDK client calls the tools.
import { writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { createTestClient, type TestClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generate } from "../src/generate.js";
import { tempServerDir } from "./helpers.js";

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const require = createRequire(import.meta.url);
const GITHUB = join(
  dirname(require.resolve("@octokit/openapi/package.json")),
  "generated/api.github.com.json",
);

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const requests: Recorded[] = [];
let upstream: Server;
let base: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const answer = req.method === "GET" ? [] : { id: 1, number: 7, title: "t" };
      res.writeHead(req.method === "GET" ? 200 : 201, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- results are read by the assertions
type Result = { isError?: boolean; structuredContent?: any; content: { text?: string }[] };
type Schema = { parse(v: unknown): Record<string, unknown>; shape: Record<string, { meta(): unknown }> };

const OVERRIDES = `import type { Overrides } from "@toolshed/openapi-runtime";

export const overrides: Overrides = {
  settings: {
    githubToken: { env: "GH_TEST_TOKEN", description: "A GitHub token with repo scope." },
    githubOwner: { env: "GH_TEST_OWNER", description: "The account whose repositories the tools use." },
    pageSize: { env: "GH_TEST_PAGE_SIZE", description: "Issues per page.", default: "30" },
    partnerKey: { env: "GH_TEST_PARTNER_KEY", description: "A key some proxies want as a query parameter." },
  },
  headers: { authorization: "Bearer {githubToken}", "x-github-api-version": "2022-11-28" },
  query: { api_key: "{partnerKey}" },
  fill: { owner: "{githubOwner}" },
  tools: {
    "issues_list_for_repo": {
      name: "list_issues",
      description: "Lists the issues of one repository of the configured account, newest first.",
      fill: { per_page: "{pageSize}" },
    },
  },
};
`;

async function serverFrom(dir: string, overrides: string) {
  writeFileSync(join(dir, "src/overrides.ts"), overrides);
  const mod = (await import(join(dir, "src/server.ts"))) as {
    default: Parameters<typeof createTestClient>[0];
    settingsSchema: Schema;
  };
  return mod;
}

describe("settings, headers, query and hidden fields from src/overrides.ts on GitHub's description", () => {
  const tmp = tempServerDir("auth-gh");
  let mod: Awaited<ReturnType<typeof serverFrom>>;
  const clients: TestClient[] = [];
  const client = async (settings: Record<string, unknown>) => {
    const config = mod.settingsSchema.parse({ baseUrl: base, allowPrivateNetwork: true, ...settings });
    const t = await createTestClient(mod.default, { config });
    clients.push(t);
    return t;
  };
  beforeAll(async () => {
    await generate({
      document: GITHUB,
      outDir: tmp.dir,
      name: "gh",
      include: ["issues/list-for-repo", "issues/create"],
    });
    mod = await serverFrom(tmp.dir, OVERRIDES);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    tmp.cleanup();
  });

  it("adds each setting to the config with its env var", () => {
    expect(mod.settingsSchema.shape.githubToken!.meta()).toMatchObject({ env: "GH_TEST_TOKEN" });
    expect(mod.settingsSchema.parse({}).pageSize).toBe("30");
  });

  it("hides filled fields from the model and applies renames and descriptions", async () => {
    const t = await client({ githubToken: "ghp_secret", githubOwner: "octo-org" });
    const { tools } = await t.client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual(["issues_create", "list_issues"]);
    const list = tools.find((x) => x.name === "list_issues")!;
    expect(list.description).toBe(
      "Lists the issues of one repository of the configured account, newest first.",
    );
    expect(Object.keys(list.inputSchema.properties ?? {})).toContain("repo");
    expect(Object.keys(list.inputSchema.properties ?? {})).not.toContain("owner");
    expect(Object.keys(list.inputSchema.properties ?? {})).not.toContain("per_page");
    const create = tools.find((x) => x.name === "issues_create")!;
    expect(Object.keys(create.inputSchema.properties ?? {})).not.toContain("owner");
    expect(Object.keys(create.inputSchema.properties ?? {})).toContain("title");
  });

  it("sends the token, the extra header, the query parameter and the filled fields", async () => {
    const t = await client({ githubToken: "ghp_secret", githubOwner: "octo-org", partnerKey: "pk-1" });
    requests.length = 0;
    const r = (await t.client.callTool({ name: "list_issues", arguments: { repo: "hello" } })) as Result;
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const created = (await t.client.callTool({
      name: "issues_create",
      arguments: { repo: "hello", title: "Bug" },
    })) as Result;
    expect(created.isError, created.content[0]?.text).toBeFalsy();
    expect(requests).toHaveLength(2);
    const [list, create] = requests as [Recorded, Recorded];
    const url = new URL(list.url, base);
    expect(url.pathname).toBe("/repos/octo-org/hello/issues");
    expect(url.searchParams.get("per_page")).toBe("30");
    expect(url.searchParams.get("api_key")).toBe("pk-1");
    expect(list.headers.authorization).toBe("Bearer ghp_secret");
    expect(list.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(create.method).toBe("POST");
    expect(new URL(create.url, base).pathname).toBe("/repos/octo-org/hello/issues");
    expect(create.headers.authorization).toBe("Bearer ghp_secret");
    expect(JSON.parse(create.body)).toEqual({ title: "Bug" });
  });

  it("leaves out a header or query parameter whose setting is unset", async () => {
    const t = await client({ githubOwner: "octo-org" });
    requests.length = 0;
    const r = (await t.client.callTool({ name: "list_issues", arguments: { repo: "hello" } })) as Result;
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(requests[0]!.headers.authorization).toBeUndefined();
    expect(requests[0]!.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(new URL(requests[0]!.url, base).searchParams.has("api_key")).toBe(false);
  });

  it("says which env var to set when a filled required field's setting is unset", async () => {
    const t = await client({ githubToken: "ghp_secret" });
    requests.length = 0;
    const r = (await t.client.callTool({ name: "list_issues", arguments: { repo: "hello" } })) as Result;
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toContain("set GH_TEST_OWNER");
    expect(requests).toEqual([]);
  });

  it("refuses a filled value that does not fit the field, naming its env var", async () => {
    const t = await client({ githubOwner: "octo-org", pageSize: "many" });
    const r = (await t.client.callTool({ name: "list_issues", arguments: { repo: "hello" } })) as Result;
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toContain("GH_TEST_PAGE_SIZE");
  });

  it("names the env var when the SSRF guard refuses a private address", async () => {
    const config = mod.settingsSchema.parse({ baseUrl: base, githubOwner: "octo-org" });
    expect(config.allowPrivateNetwork).toBe(false);
    const t = await createTestClient(mod.default, { config });
    clients.push(t);
    const r = (await t.client.callTool({ name: "list_issues", arguments: { repo: "hello" } })) as Result;
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toContain("set GH_ALLOW_PRIVATE_NETWORK=true");
    expect(r.content[0]!.text).not.toContain("set allowPrivateNetwork");
  });
});

describe("mistakes in src/overrides.ts", () => {
  const tmp = tempServerDir("auth-bad");
  beforeAll(() =>
    generate({ document: GITHUB, outDir: tmp.dir, name: "gh", include: ["issues/list-for-repo"] }),
  );
  afterAll(() => tmp.cleanup());
  let n = 0;
  // Each variant under its own file name, so the module cache does not hand back the first one.
  const load = async (body: string) => {
    const file = join(tmp.dir, `src/overrides-${++n}.ts`);
    writeFileSync(
      file,
      `import type { Overrides } from "@toolshed/openapi-runtime";\nexport const overrides: Overrides = ${body};\n`,
    );
    const runtime = (await import("@toolshed/openapi-runtime")) as {
      applyOverrides(tools: unknown[], o: unknown): unknown[];
      withSettings(s: unknown, o: unknown): unknown;
    };
    const { generatedTools } = (await import(join(tmp.dir, "src/generated/tools.ts"))) as {
      generatedTools: unknown[];
    };
    const { configSchema } = (await import(join(tmp.dir, "src/generated/config.ts"))) as {
      configSchema: unknown;
    };
    const { overrides } = (await import(file)) as { overrides: unknown };
    return () => {
      runtime.withSettings(configSchema, overrides);
      runtime.applyOverrides(generatedTools, overrides);
    };
  };

  it.each([
    [
      "a tool the document no longer has",
      `{ tools: { issues_get: { title: "Get" } } }`,
      "src/overrides.ts: tools.issues_get names a tool the document does not define (any more)",
    ],
    [
      "a template naming no setting",
      `{ headers: { authorization: "Bearer {token}" } }`,
      "src/overrides.ts: headers.authorization uses '{token}', which is no setting",
    ],
    [
      "a per-tool change at the top level (the old shape)",
      `{ issues_list_for_repo: { title: "List" } } as Overrides`,
      "changes to one tool go under tools: { issues_list_for_repo: { ... } }",
    ],
    [
      "a field the tool does not have",
      `{ tools: { issues_list_for_repo: { fill: { org: "x" } } } }`,
      "tools.issues_list_for_repo.fill: the tool has no input field 'org'",
    ],
    [
      "a bad env var name",
      `{ settings: { token: { env: "my-token", description: "t" } } }`,
      "env 'my-token' must be an env var name",
    ],
  ])("refuses %s with an OverrideError saying what to fix", async (_, body, message) => {
    const check = await load(body);
    expect(check).toThrow(
      expect.objectContaining({ name: "OverrideError", message: expect.stringContaining(message) }),
    );
  });
});
