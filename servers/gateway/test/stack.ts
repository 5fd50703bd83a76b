import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createExampleApi } from "@toolshed/example-api-upstream";
import { createLogger, type Logger } from "@toolshed/logging";
import { authFromSettings, startHttpServer, type HttpOptions } from "@toolshed/server";
import dataAnalytics, { configSchema as daConfig } from "@toolshed/server-data-analytics";
import exampleApi from "@toolshed/server-example-api";
import githubServer, { configSchema as githubConfig } from "@toolshed/server-github";
import vectorSearch, { configSchema as vsConfig } from "@toolshed/server-vector-search";
import { startTestHttpServer, type TestHttpServer } from "@toolshed/testing";
import type { AddressInfo } from "node:net";
import { FakeGitHub, ownFixture } from "../../github/test/fake-github.js";
import gatewayServer, { type GatewayDeps } from "../src/server.js";

export const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** The credential the gateway holds for example-api's MCP endpoint (never shown to clients). */
export const EXAMPLE_MCP_KEY = "tsk_gateway_upstream_secret_7f3a9c";
export const EXAMPLE_API_TOKEN = "example-api-token-for-tests";

export const FIXTURE_BIN = fileURLToPath(
  new URL("../../../packages/testing/fixtures/everything/dist/bin.js", import.meta.url),
);

export interface Stack {
  urls: Record<"data-analytics" | "vector-search" | "example-api" | "github", string>;
  fake: FakeGitHub;
  close(): Promise<void>;
}

/**
 * The four domain servers on embedded defaults, each on real HTTP on loopback: data-analytics
 * (DuckDB), vector-search (PGlite), example-api (in front of the real Example API, its MCP endpoint
 * behind an API key the gateway holds) and github (against the loopback replay of recorded GitHub
 * responses).
 */
export async function startStack(): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "gateway-stack-"));
  const closers: (() => Promise<void>)[] = [];
  const started = async <T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> => {
    const v = await p;
    closers.push(() => v.close());
    return v;
  };
  const silent = { logLevel: "silent" as const };
  const da = await started(
    startHttpServer(dataAnalytics, {}, { ...silent, config: daConfig.parse({ dataDir: join(dir, "da") }) }),
  );
  const vs = await started(
    startHttpServer(vectorSearch, {}, { ...silent, config: vsConfig.parse({ dataDir: join(dir, "vs") }) }),
  );
  const api = await createExampleApi({ dataFile: join(dir, "example.json"), tokens: [EXAMPLE_API_TOKEN] });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  closers.push(async () => {
    api.closeAllConnections();
    await new Promise<void>((resolve) => api.close(() => resolve()));
  });
  const exampleAuth = authFromSettings(
    {
      apiKeys: `gateway:${sha(EXAMPLE_MCP_KEY)}:example-api:*`,
      serverName: "example-api",
      authFailureLimit: "off",
    },
    "http://127.0.0.1/mcp",
    createLogger({ name: "example-api", level: "silent" }),
  );
  const ex = await started(
    startHttpServer(
      exampleApi,
      { auth: exampleAuth! },
      {
        ...silent,
        config: exampleApi.config!.parse({
          baseUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
          exampleApiApiKey: EXAMPLE_API_TOKEN,
        }),
      },
    ),
  );
  const fake = (await FakeGitHub.start()).load(ownFixture("repos"));
  closers.push(() => fake.close());
  const githubParsed = githubConfig.parse({
    githubToken: "ghp_TestToken000000000000000000000000000",
    apiUrl: fake.url,
  });
  const gh = await started(startHttpServer(githubServer, {}, { ...silent, config: githubParsed }));
  return {
    urls: { "data-analytics": da.url, "vector-search": vs.url, "example-api": ex.url, github: gh.url },
    fake,
    async close() {
      for (const close of closers.reverse()) await close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestGateway extends TestHttpServer {
  deps(): Promise<GatewayDeps>;
  logs(): string;
  configPath: string;
  dir: string;
}

/** Writes `config` to a temp YAML file and starts the gateway on it (real HTTP on loopback). */
export async function startGateway(
  config: string,
  options: { mode?: "all" | "search"; http?: Partial<HttpOptions>; env?: Record<string, string> } = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), "gateway-config-"));
  const configPath = join(dir, "gateway.yaml");
  writeFileSync(configPath, config);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger: Logger = createLogger({ name: "gateway", level: "debug", destination: sink });
  for (const [k, v] of Object.entries(options.env ?? {})) process.env[k] = v;
  const handle = await startTestHttpServer(gatewayServer, options.http ?? {}, {
    logger,
    config: { config: configPath, mode: options.mode ?? "all" },
  });
  const close = handle.close.bind(handle);
  return Object.assign(handle, {
    deps: () => handle.runtime.deps() as Promise<GatewayDeps>,
    logs: () => lines.join(""),
    configPath,
    dir,
    async close(deadline?: number) {
      await close(deadline);
      await handle.runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export function stackConfig(stack: Stack, extra = ""): string {
  return `
upstreams:
  data-analytics:
    url: ${stack.urls["data-analytics"]}
  vector-search:
    url: ${stack.urls["vector-search"]}
  example-api:
    url: ${stack.urls["example-api"]}
    bearer: { env: GATEWAY_TEST_EXAMPLE_KEY }
  github:
    url: ${stack.urls.github}
${extra}`;
}

export interface ToolResultShape {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

export function textOf(r: ToolResultShape): string {
  return r.content.map((c) => c.text ?? "").join("\n");
}

/** The four domain servers and a gateway in front of them (plus `extra` config), both closed by `close`. */
export async function startStackGateway(
  extra = "",
  mode: "all" | "search" = "all",
): Promise<{ stack: Stack; gw: TestGateway; close: () => Promise<void> }> {
  const stack = await startStack();
  const gw = await startGateway(stackConfig(stack, extra), {
    mode,
    env: { GATEWAY_TEST_EXAMPLE_KEY: EXAMPLE_MCP_KEY },
  });
  const { gateway } = await gw.deps();
  if (gateway.down().length) throw new Error(`upstreams not ready: ${gateway.down().join(", ")}`);
  return {
    stack,
    gw,
    close: async () => {
      await gw.close();
      await stack.close();
    },
  };
}
