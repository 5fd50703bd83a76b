import { createRateLimiter, type RateLimiter } from "@toolshed/auth";
import { UpstreamClient, type CallOptions, type UpstreamTarget } from "@toolshed/client";
import type { Logger } from "@toolshed/logging";
import { ToolshedError } from "@toolshed/server";
import { createHash } from "node:crypto";
import { AnswerCache } from "./cache.js";
import { SHARED_KEY_PREFIX, type SharedStore } from "./shared.js";
import { readSecret, readValue, type UpstreamConfig } from "./config.js";

export type { ForwardOptions, UpstreamState } from "@toolshed/client";

/**
 * One upstream of the gateway: a `@toolshed/client` UpstreamClient (connection, era, supervision,
 * lists) plus its place in the gateway: its config entry, its namespace, and its credential, read
 * from the environment or a file at each connect and sent only to it.
 */
export class Upstream extends UpstreamClient {
  /** The prefix of its names; "" for the upstream mounted at the root (`namespace: false`). */
  readonly namespace: string;
  /** Its entry when it was started; scopes may have changed since (the gateway's file has them). */
  readonly spec: UpstreamConfig;
  /**
   * How it is reached, as JSON: a reload keeps an upstream whose fingerprint did not change. Scopes
   * are left out, so a reload that changes only who may use it keeps the connection.
   */
  readonly fingerprint: string;
  /** Its read-only tools' answers, when its entry has `cache` (a changed `cache` is a new upstream). */
  readonly cache: AnswerCache | undefined;

  constructor(
    name: string,
    spec: UpstreamConfig,
    options: {
      logger: Logger;
      env?: NodeJS.ProcessEnv;
      onChange?: () => void;
      onResourceUpdated?: (uri: string) => void;
      /** The replicas' Redis: cached answers and the rate limit are shared there. */
      shared?: { store: SharedStore; redisUrl: string };
    },
  ) {
    const env = options.env ?? process.env;
    super(name, {
      logger: options.logger,
      env,
      target: () => targetOf(name, spec, env),
      ...(spec.protocol ? { protocol: spec.protocol } : {}),
      ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
      ...(options.onChange ? { onChange: options.onChange } : {}),
      ...(options.onResourceUpdated ? { onResourceUpdated: options.onResourceUpdated } : {}),
    });
    this.namespace = spec.namespace === false ? "" : (spec.namespace ?? name);
    this.spec = spec;
    const { scopes: _scopes, tools: _tools, ...connection } = spec;
    this.fingerprint = JSON.stringify(connection);
    const shared = options.shared;
    // Shared cache keys name the connection too: a changed upstream never serves old answers.
    const scope = `${name}:${createHash("sha256").update(this.fingerprint).digest("base64url").slice(0, 12)}`;
    this.cache = spec.cache
      ? new AnswerCache(spec.cache, shared ? { store: shared.store, scope } : {})
      : undefined;
    const perMinute = spec.rateLimit?.perMinute;
    // A bucket of a minute's requests, refilled evenly (the kit's limiter): in memory, or one bucket
    // for all replicas in Redis (failing open while Redis is down, as the kit's own limits do).
    if (perMinute)
      this.#limiter = createRateLimiter({
        capacity: perMinute,
        refillPerSecond: perMinute / 60,
        ...(shared
          ? {
              redisUrl: shared.redisUrl,
              keyPrefix: `${SHARED_KEY_PREFIX}ratelimit:`,
              onError: (err: Error) => shared.store.warn(`taking from upstream '${name}' rate limit`, err),
            }
          : {}),
      });
  }

  readonly #limiter: RateLimiter | undefined;

  /** Whether calls take from a rate limit (`admit` has work to do). */
  get limited(): boolean {
    return this.#limiter !== undefined;
  }

  /** Takes one request from the upstream's rate limit, or refuses naming the upstream and when to retry. */
  async admit(): Promise<void> {
    if (!this.#limiter) return;
    const taken = await this.#limiter.take(`upstream:${this.name}`);
    if (taken.allowed) return;
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    throw new ToolshedError(
      "rate_limited",
      `upstream '${this.name}' rate limit reached (${this.spec.rateLimit!.perMinute} requests per minute through this gateway); retry in ${seconds}s`,
      { retryAfterMs: taken.retryAfterMs, details: { upstream: this.name } },
    );
  }

  override async callTool(
    ...args: Parameters<UpstreamClient["callTool"]>
  ): ReturnType<UpstreamClient["callTool"]> {
    await this.admit();
    return super.callTool(...args);
  }

  override async callToolOrTask(
    ...args: Parameters<UpstreamClient["callToolOrTask"]>
  ): ReturnType<UpstreamClient["callToolOrTask"]> {
    await this.admit();
    return super.callToolOrTask(...args);
  }

  /**
   * tasks/get, tasks/update and tasks/cancel count against the rate limit like any other request:
   * polling costs the upstream as much as a call does, so a caller cannot hammer it through them.
   */
  override async taskRequest(
    ...args: Parameters<UpstreamClient["taskRequest"]>
  ): ReturnType<UpstreamClient["taskRequest"]> {
    await this.admit();
    return super.taskRequest(...args);
  }

  override async readResource(uri: string, options: CallOptions): ReturnType<UpstreamClient["readResource"]> {
    await this.admit();
    return super.readResource(uri, options);
  }

  override async getPrompt(
    ...args: Parameters<UpstreamClient["getPrompt"]>
  ): ReturnType<UpstreamClient["getPrompt"]> {
    await this.admit();
    return super.getPrompt(...args);
  }

  override async complete(
    ...args: Parameters<UpstreamClient["complete"]>
  ): ReturnType<UpstreamClient["complete"]> {
    await this.admit();
    return super.complete(...args);
  }

  override async close(drainMs = 30_000): Promise<void> {
    await super.close(drainMs, "removed from the gateway config");
    await this.#limiter?.close();
  }
}

/** The config entry as a client target, its secrets read now (a missing one throws, naming it). */
function targetOf(name: string, spec: UpstreamConfig, env: NodeJS.ProcessEnv): UpstreamTarget {
  const where = `upstream '${name}'`;
  if (spec.url !== undefined) {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(spec.headers ?? {})) {
      headers[key] = readValue(value, env, `${where} header ${key}`);
    }
    if (spec.bearer) headers.Authorization = `Bearer ${readSecret(spec.bearer, env, `${where} bearer`)}`;
    return { url: spec.url, headers };
  }
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    vars[key] = readValue(value, env, `${where} env ${key}`);
  }
  return {
    command: spec.command!,
    args: spec.args ?? [],
    env: vars,
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
  };
}
