// Field selection on answers: GitHub's issue list and issue (@octokit/openapi, from npm), answered by a
// loopback upstream with the description's own example answers. A `fields` argument keeps only the
// fields the model asks for, of the object or of each item, nested ones by "a.b". The document's
// defaults (state=open, per_page=30) are shown to the model and never sent in its place; an answer
// missing a required field passes with a warning, unless strict answers are on.
import { createServer, type Server } from "node:http";
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
const examples = (require(GITHUB) as { components: { examples: Record<string, { value: unknown }> } })
  .components.examples;
const ISSUE_ITEMS = examples["issue-simple-items"]!.value as Record<string, unknown>[];
const ISSUE = examples["issue"]!.value as Record<string, unknown>;

const urls: string[] = [];
// An answer that drifted from the description: GitHub's example issue without two of the fields the
// description requires (closed_at, milestone).
const { closed_at: _c, milestone: _m, ...DRIFTED } = ISSUE;
let drift = false;
let upstream: Server;
let base: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    urls.push(req.url!);
    req.resume();
    req.on("end", () => {
      const one = /\/issues\/\d+$/.test(new URL(req.url!, "http://x").pathname);
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify(one ? (drift ? DRIFTED : ISSUE) : ISSUE_ITEMS));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- results are read by the assertions
type Result = { isError?: boolean; structuredContent?: any; content: { text?: string }[] };

describe("a fields argument on GitHub's issue tools", () => {
  const tmp = tempServerDir("fields-gh");
  let t: TestClient;
  let strict: TestClient;
  beforeAll(async () => {
    await generate({
      document: GITHUB,
      outDir: tmp.dir,
      name: "gh",
      include: ["issues/list-for-repo", "issues/get"],
    });
    const mod = (await import(join(tmp.dir, "src/server.ts"))) as {
      default: Parameters<typeof createTestClient>[0];
      settingsSchema: { parse(v: unknown): unknown };
    };
    t = await createTestClient(mod.default, {
      config: mod.settingsSchema.parse({ baseUrl: base, allowPrivateNetwork: true }),
    });
    strict = await createTestClient(mod.default, {
      config: mod.settingsSchema.parse({ baseUrl: base, allowPrivateNetwork: true, strictAnswers: true }),
    });
  });
  afterAll(async () => {
    await Promise.all([t?.close(), strict?.close()]);
    tmp.cleanup();
  });
  const call = async (name: string, args: Record<string, unknown>) =>
    (await t.client.callTool({ name, arguments: { owner: "o", repo: "r", ...args } })) as unknown as Result;

  it("is offered on object and list answers", async () => {
    const { tools } = await t.client.listTools();
    for (const tool of tools) expect(Object.keys(tool.inputSchema.properties ?? {})).toContain("fields");
  });

  it("keeps only the named fields of each item, nested ones included", async () => {
    expect(ISSUE_ITEMS.length).toBeGreaterThan(0);
    const r = await call("issues_list_for_repo", { fields: ["number", "title", "user.login"] });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.structuredContent.items).toEqual(
      ISSUE_ITEMS.map((i) => ({
        number: i.number,
        title: i.title,
        user: { login: (i.user as { login: string }).login },
      })),
    );
    expect(r.content[0]!.text!.length).toBeLessThan(JSON.stringify(ISSUE_ITEMS).length / 10);
  });

  it("keeps only the named fields of an object answer", async () => {
    const r = await call("issues_get", { issue_number: 1347, fields: ["state", "labels.name"] });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.structuredContent).toEqual({
      state: ISSUE.state,
      labels: (ISSUE.labels as { name: string }[]).map((l) => ({ name: l.name })),
    });
  });

  it("returns the whole answer without it", async () => {
    const r = await call("issues_get", { issue_number: 1347 });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.structuredContent).toEqual(ISSUE);
  });

  it("shows the document's defaults to the model and sends only what the model chose", async () => {
    const { tools } = await t.client.listTools();
    const list = tools.find((x) => x.name === "issues_list_for_repo")!;
    const props = list.inputSchema.properties as Record<string, { default?: unknown }>;
    expect(props.state?.default).toBe("open");
    expect(props.per_page?.default).toBe(30);
    urls.length = 0;
    const r = await call("issues_list_for_repo", { labels: "bug" });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(urls).toEqual(["/repos/o/r/issues?labels=bug"]);
  });

  it("passes on an answer missing a required field with a warning, and refuses it in strict mode", async () => {
    const warnings: unknown[] = [];
    t.client.setNotificationHandler("notifications/message", (n) => {
      if (n.params.level === "warning") warnings.push(n.params.data);
    });
    drift = true;
    try {
      const r = await call("issues_get", { issue_number: 1347 });
      expect(r.isError, r.content[0]?.text).toBeFalsy();
      expect(r.structuredContent).toEqual(DRIFTED);
      await vi.waitFor(() => expect(warnings).toHaveLength(1));
      expect(JSON.stringify(warnings[0])).toMatch(/issues_get.*(closed_at|milestone)/);
      const refused = (await strict.client.callTool({
        name: "issues_get",
        arguments: { owner: "o", repo: "r", issue_number: 1347 },
      })) as unknown as Result;
      expect(refused.isError).toBe(true);
      expect(refused.content[0]!.text).toMatch(
        /upstream_error.*(closed_at|milestone).*strict answers are on/,
      );
    } finally {
      drift = false;
    }
  });

  it("refuses names that match nothing, listing the fields there are", async () => {
    const r = await call("issues_get", { issue_number: 1347, fields: ["titel"] });
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toContain("no field named titel");
    expect(r.content[0]!.text).toContain("title");
  });
});
