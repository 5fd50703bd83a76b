import { createLogger, type Logger, type LogLevel } from "@toolshed/logging";
import type { ChangeBus } from "./bus.js";
import {
  resolveDefinition,
  type AnyObjectSchema,
  type AnyServerDefinition,
  type ConfirmPolicy,
} from "./define.js";
import type { HttpHandle, HttpOptions } from "./http/app.js";
import { Runtime, type ToolMode } from "./runtime.js";
import type { TaskSettings } from "./tasks/manager.js";
import { traceLogFields } from "./tracing.js";
import { serveStdio, type StdioHandle } from "./stdio.js";
import { definitionProblems } from "./validate-definition.js";

export class InvalidServerDefinition extends Error {
  constructor(readonly problems: string[]) {
    super(`the server definition is incomplete:\n- ${problems.join("\n- ")}`);
  }
}

export interface StartOptions {
  /** The server's own config, already validated (defaults are applied from `def.config` when omitted). */
  config?: unknown;
  logger?: Logger;
  logLevel?: LogLevel;
  /** HMAC keys for the requestState of questions to the user; see RuntimeOptions. */
  requestStateKeys?: readonly string[];
  requestStateTtlSeconds?: number;
  /** `--confirm`: `ask` (default) or `never` (unattended agents); see RuntimeOptions. */
  confirm?: ConfirmPolicy;
  /** Where tasks live (a RedisTaskStore for replicas), how long they are kept, the lease; see TaskSettings. */
  tasks?: TaskSettings;
  /** Where change notifications travel (e.g. a RedisChangeBus shared by replicas); the runtime closes it. */
  changes?: ChangeBus;
  /** `--tool-mode`: `all`, `search` or `auto`; the definition's `toolMode` (else `auto`) unless set. */
  toolMode?: ToolMode;
  /** `--search-threshold`: how many tools `auto` lists before it turns to search mode; 40 unless set. */
  searchThreshold?: number;
  /** The Redis replicas share (`TOOLSHED_REDIS_URL`): `setup` gets it for the server's own shared state. */
  redisUrl?: string;
}

/**
 * Builds the shared runtime after checking the definition's metadata; refuses incomplete servers.
 * Tools, resources and prompts given as functions of the config are listed here, once.
 */
export function createRuntime(def: AnyServerDefinition, options: StartOptions = {}): Runtime {
  const schema = def.config as AnyObjectSchema | undefined;
  const config: unknown = options.config ?? schema?.parse({});
  const resolved = resolveDefinition(def, config);
  const problems = definitionProblems(resolved, config);
  if (problems.length) throw new InvalidServerDefinition(problems);
  const logger =
    options.logger ??
    createLogger({ name: def.name, level: options.logLevel ?? "info", mixin: traceLogFields });
  return new Runtime(resolved, {
    logger,
    config,
    ...(options.requestStateKeys ? { requestStateKeys: options.requestStateKeys } : {}),
    ...(options.requestStateTtlSeconds ? { requestStateTtlSeconds: options.requestStateTtlSeconds } : {}),
    ...(options.confirm ? { confirm: options.confirm } : {}),
    ...(options.tasks ? { tasks: options.tasks } : {}),
    ...(options.changes ? { changes: options.changes } : {}),
    ...(options.toolMode ? { toolMode: options.toolMode } : {}),
    ...(options.searchThreshold !== undefined ? { searchThreshold: options.searchThreshold } : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
  });
}

/** Starts a server on Streamable HTTP; for tests, embedding and the binary. */
export async function startHttpServer(
  def: AnyServerDefinition,
  http: Partial<HttpOptions> = {},
  options: StartOptions = {},
): Promise<HttpHandle & { runtime: Runtime }> {
  const runtime = createRuntime(def, options);
  // The HTTP stack (the SDK's Node transport, Hono) is loaded only by servers that serve HTTP.
  const { serveHttp } = await import("./http/app.js");
  const handle = await serveHttp(runtime, { host: "127.0.0.1", port: 0, ...http });
  return Object.assign(handle, { runtime });
}

/** Starts a server on this process's stdin/stdout. */
export async function startStdioServer(
  def: AnyServerDefinition,
  options: StartOptions = {},
): Promise<StdioHandle & { runtime: Runtime }> {
  const runtime = createRuntime(def, options);
  const handle = await serveStdio(runtime);
  return Object.assign(handle, { runtime });
}
