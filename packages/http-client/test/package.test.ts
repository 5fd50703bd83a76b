import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { VERSION } from "../src/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  exports: Record<string, unknown>;
  files: string[];
};

// Guards the published surface: what a consumer imports and what dist/ itself imports.
describe("published surface", () => {
  it("exports the client from dist and keeps VERSION in step with package.json", async () => {
    const dist = (await import(join(root, "dist", "index.js"))) as Record<string, unknown>;
    expect(typeof dist.createHttpClient).toBe("function");
    expect(dist.VERSION).toBe(pkg.version);
    expect(VERSION).toBe(pkg.version);
    expect(Object.keys(pkg.exports)).toEqual([".", "./package.json"]);
    expect(pkg.files).toEqual(["dist"]);
  });

  it("imports nothing from dist that is not a dependency or a node builtin", async () => {
    const files = (await readdir(join(root, "dist"), { recursive: true })).filter((f) => f.endsWith(".js"));
    expect(files.length).toBeGreaterThan(5);
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules.map((m) => `node:${m}`)]);
    for (const file of files) {
      const text = await readFile(join(root, "dist", file), "utf8");
      for (const match of text.matchAll(/\bfrom\s+"([^"]+)"/g)) {
        const spec = match[1]!;
        if (spec.startsWith(".")) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        expect(allowed.has(name) || allowed.has(spec), `${file} imports ${spec}`).toBe(true);
      }
    }
  });

  it("loads undici on the first request, not when a client is created", async () => {
    const dir = await mkdtemp(join(tmpdir(), "toolshed-http-client-load-"));
    const log = join(dir, "modules.log");
    // Every ES module the child loads is appended to the log, as are the script's markers.
    const hooks = `
      import { appendFileSync } from "node:fs";
      export async function load(url, context, next) {
        appendFileSync(${JSON.stringify(log)}, url + "\\n");
        return next(url, context);
      }`;
    const script = `
      import { appendFileSync } from "node:fs";
      import { createServer } from "node:http";
      import { register } from "node:module";
      register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});
      const { createHttpClient } = await import(${JSON.stringify(pathToFileURL(join(root, "dist", "index.js")).href)});
      const server = createServer((req, res) => res.end("ok")).listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      const client = createHttpClient({
        name: "probe",
        baseUrl: "http://127.0.0.1:" + server.address().port,
        allowPrivateNetwork: true,
      });
      appendFileSync(${JSON.stringify(log)}, "created\\n");
      const res = await client.get("/", { parse: "text" });
      appendFileSync(${JSON.stringify(log)}, "requested " + res.status + "\\n");
      await client.close();
      server.close();
    `;
    try {
      await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { timeout: 20_000 });
      const lines = (await readFile(log, "utf8")).split("\n");
      const undici = lines.findIndex((line) => /\/node_modules\/undici\//.test(line));
      expect(lines).toContain("requested 200");
      expect(undici, "undici was never loaded").toBeGreaterThan(-1);
      expect(undici).toBeGreaterThan(lines.indexOf("created"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
