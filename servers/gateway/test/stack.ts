import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createExampleApi } from "@toolshed/example-api-upstream";
import { createLogger, type Logger } from "@toolshed/logging";
import {
  authFromSettings,
  RedisChangeBus,
  startHttpServer,
  type AnyServerDefinition,
  type HttpAuth,
  type HttpOptions,
} from "@toolshed/server";
import dataAnalytics, { configSchema as daConfig } from "@toolshed/server-data-analytics";
import exampleApi from "@toolshed/server-example-api";
import githubServer, { configSchema as githubConfig } from "@toolshed/server-github";
import vectorSearch, { configSchema as vsConfig } from "@toolshed/server-vector-search";
import { connectHttpClient, startTestHttpServer, type Era, type TestHttpServer } from "@toolshed/testing";
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
  options: {
    mode?: "all" | "search";
    http?: Partial<HttpOptions>;
    env?: Record<string, string>;
    largeResultBytes?: number;
    /** The Redis replicas share (TOOLSHED_REDIS_URL). */
    redisUrl?: string;
    /** `--request-state-key`: replicas share one (it also binds task ids to their callers). */
    requestStateKeys?: string[];
    /** Change notifications cross replicas on this Redis pub/sub channel (as the bin's, on its own). */
    changesChannel?: string;
  } = {},
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
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    ...(options.requestStateKeys ? { requestStateKeys: options.requestStateKeys } : {}),
    ...(options.redisUrl && options.changesChannel
      ? { changes: await RedisChangeBus.create({ url: options.redisUrl, channel: options.changesChannel }) }
      : {}),
    config: {
      config: configPath,
      mode: options.mode ?? "all",
      largeResultBytes: options.largeResultBytes ?? 64 * 1024,
    },
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

/** API keys of the gateway's callers, by principal id: the key and its scopes ("a:read,b:write"). */
export type ApiKeys = Record<string, { key: string; scopes: string }>;

/** The kit's API-key auth for a test gateway: one principal per key, no failure limit. */
export function gatewayAuth(keys: ApiKeys): HttpAuth {
  return authFromSettings(
    {
      apiKeys: Object.entries(keys)
        .map(([id, { key, scopes }]) => `${id}:${sha(key)}:${scopes}`)
        .join(";"),
      serverName: "gateway",
      authFailureLimit: "off",
    },
    "http://127.0.0.1/mcp",
    createLogger({ name: "gateway", level: "silent" }),
  )!;
}

/**
 * YAML for one upstream reached twice: as `name` (era probed: 2026-07-28 for a kit server) and as
 * `name-legacy` (pinned to 2025), both with the same `extra` lines (indented for an upstream entry).
 */
export function bothEras(name: string, url: string, extra = ""): string {
  return [name, `${name}-legacy`]
    .map((n, i) => `  ${n}:\n    url: ${url}\n${i ? '    protocol: "2025"\n' : ""}${extra}`)
    .join("");
}

export interface GatewayOver<S extends string> {
  gw: TestGateway;
  /** Each upstream server's /mcp URL, by the key it was given under. */
  urls: Record<S, string>;
  /** The gateway's auth (with `keys`), for a second gateway on the same callers. */
  auth: HttpAuth | undefined;
  /** A client of a gateway (this one unless `url`) as a principal of `keys` (none without keys). */
  as(
    who: string | undefined,
    era: Era,
    capabilities?: Record<string, unknown>,
    url?: string,
  ): Promise<Client>;
  close(): Promise<void>;
}

type Client = Awaited<ReturnType<typeof connectHttpClient>>;

/**
 * Kit servers on loopback HTTP (silent) and a gateway over them, on the YAML `config` writes from
 * their URLs (`bothEras` for an upstream reached on both eras); with `keys`, behind the kit's API
 * keys. Every upstream must be up, and each `<x>-legacy` upstream speak 2025 and its `<x>`
 * 2026-07-28: what the tests then say about eras holds.
 */
export async function startGatewayOver<S extends string>(
  servers: Record<S, AnyServerDefinition>,
  config: (urls: Record<S, string>) => string,
  options: { keys?: ApiKeys; mode?: "all" | "search"; largeResultBytes?: number; redisUrl?: string } = {},
): Promise<GatewayOver<S>> {
  const handles: { url: string; close(): Promise<void> }[] = [];
  const close = async () => {
    await gw?.close();
    for (const h of handles) await h.close().catch(() => {});
  };
  let gw: TestGateway | undefined;
  try {
    const urls = {} as Record<S, string>;
    for (const [key, def] of Object.entries(servers) as [S, AnyServerDefinition][]) {
      const handle = await startHttpServer(def, {}, { logLevel: "silent" });
      handles.push(handle);
      urls[key] = handle.url;
    }
    const auth = options.keys ? gatewayAuth(options.keys) : undefined;
    gw = await startGateway(config(urls), {
      ...(auth ? { http: { auth } } : {}),
      ...(options.mode ? { mode: options.mode } : {}),
      ...(options.largeResultBytes !== undefined ? { largeResultBytes: options.largeResultBytes } : {}),
      ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    });
    const { gateway } = await gw.deps();
    if (gateway.down().length) throw new Error(`upstreams not ready: ${gateway.down().join(", ")}`);
    for (const [name, upstream] of gateway.upstreams) {
      const modern = name.endsWith("-legacy") && gateway.upstreams.get(name.slice(0, -"-legacy".length));
      if (modern && (upstream.era !== "legacy" || modern.era !== "modern")) {
        throw new Error(
          `'${name}' speaks ${upstream.era} and its pair ${modern.era}: expected legacy, modern`,
        );
      }
    }
    const started = gw;
    return {
      gw: started,
      urls,
      auth,
      as: (who, era, capabilities = {}, url = started.url) =>
        connectHttpClient(
          url,
          capabilities,
          who === undefined ? undefined : { authorization: `Bearer ${options.keys![who]!.key}` },
          era,
        ),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
