import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const run = promisify(execFile);

async function jsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".js")).map((e) => join(e.parentPath, e.name));
}

describe("the published package", () => {
  it("exports exactly the documented API from dist", async () => {
    const api = await import(pathToFileURL(join(dist, "index.js")).href);
    expect(Object.keys(api).sort()).toEqual([
      "ASYMMETRIC_ALGORITHMS",
      "AUTHENTICATION_REQUIRED",
      "DEFAULT_API_KEY_PREFIX",
      "DEFAULT_RATE_LIMIT_KEY_PREFIX",
      "JWKS_MAX_STALE_MS",
      "combineAuthenticators",
      "createApiKeyAuthenticator",
      "createJwtAuthenticator",
      "createRateLimiter",
      "generateApiKey",
      "hashApiKey",
      "insufficientScope",
      "missingScopes",
      "parseApiKeys",
      "protectedResourceMetadata",
      "protectedResourceMetadataUrl",
      "scopeGrants",
      "wwwAuthenticate",
    ]);
  });

  it("has the workspace package shape", async () => {
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
    expect(pkg).toMatchObject({
      name: "@toolshed/auth",
      type: "module",
      license: "MIT",
      engines: { node: ">=20.18.1" },
      files: ["dist"],
      sideEffects: false,
      publishConfig: { access: "public" },
      exports: {
        ".": { types: "./dist/index.d.ts", import: "./dist/index.js" },
        "./package.json": "./package.json",
      },
      dependencies: { "@toolshed/errors": "workspace:^", jose: "catalog:", ioredis: "catalog:" },
    });
  });

  it("imports ioredis only dynamically, from the Redis store", async () => {
    const files = await jsFiles(dist);
    const importers: string[] = [];
    for (const file of files) {
      const text = await readFile(file, "utf8");
      expect(text, file).not.toMatch(/(?:from|import)\s*["']ioredis["']/);
      if (text.includes('import("ioredis")')) importers.push(file.slice(dist.length + 1));
    }
    expect(importers).toEqual(["rate-limit/redis-store.js"]);
  });

  it("imports jose only dynamically, when a JWT authenticator is created", async () => {
    const importers: string[] = [];
    for (const file of await jsFiles(dist)) {
      const text = await readFile(file, "utf8");
      expect(text, file).not.toMatch(/(?:from|import)\s*["']jose["']/);
      if (text.includes('import("jose")')) importers.push(file.slice(dist.length + 1));
    }
    expect(importers).toEqual(["jwt.js"]);
  });

  it("does not load ioredis for memory-only users, and loads it for a Redis URL", async () => {
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((p) => p.includes("ioredis"));
      const auth = await import(${JSON.stringify(pathToFileURL(join(dist, "index.js")).href)});
      const memory = auth.createRateLimiter({ capacity: 2, refillPerSecond: 1 });
      await memory.take("k");
      const before = loaded();
      const redis = auth.createRateLimiter({ capacity: 2, refillPerSecond: 1, redisUrl: "redis://127.0.0.1:1", commandTimeoutMs: 100 });
      await redis.take("k");
      await redis.close();
      process.stdout.write(JSON.stringify({ before, after: loaded() }));
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      timeout: 10_000,
    });
    expect(JSON.parse(stdout)).toEqual({ before: false, after: true });
  });
});
