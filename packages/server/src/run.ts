import { createLogger } from "@toolshed/logging";
import { RedisChangeBus } from "./bus.js";
import { parseCommandLine, UsageError } from "./cli/options.js";
import { resolveDefinition, type AnyServerDefinition } from "./define.js";
import { authFromSettings, type HttpAuth } from "./http/auth.js";
import { isLoopback } from "./http/guards.js";
import { RedisEventStore } from "./http/redis-event-store.js";
import { RedisTaskStore } from "./tasks/redis-store.js";
import { installOtlpFromEnv } from "./otlp.js";
import { traceLogFields } from "./tracing.js";
import { InvalidServerDefinition, createRuntime } from "./start.js";
import { serveStdio } from "./stdio.js";

export interface RunOptions {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * The whole life of a server binary: parse flags and env, start the transport, shut down gracefully
 * on SIGTERM/SIGINT (or when a stdio client closes stdin). Exit codes: 0 clean, 1 failure, 2 usage.
 */
export async function runServer(def: AnyServerDefinition, options: RunOptions = {}): Promise<void> {
  const bin = `toolshed-${def.name}`;
  let parsed;
  try {
    parsed = parseCommandLine(def, options.argv ?? process.argv.slice(2), options.env ?? process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${bin}: ${err.message} (run ${bin} --help for the options)\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.kind !== "run") {
    process.stdout.write(`${parsed.text}\n`);
    return;
  }
  const { common, config } = parsed;
  const logger = createLogger({ name: def.name, level: common.logLevel, mixin: traceLogFields });
  // Tasks are shared through Redis when replicas share one (HTTP only: a stdio server is one process).
  const redisUrl = common.redisUrl;
  /** A store on the configured Redis, or exit 1 saying Redis is unreachable. */
  const onRedis = async <T>(connect: (url: string) => Promise<T>): Promise<T> => {
    try {
      return await connect(redisUrl!);
    } catch (err) {
      process.stderr.write(`${bin}: ${(err as Error).message}; start Redis or unset TOOLSHED_REDIS_URL\n`);
      process.exit(1);
    }
  };
  // The tool list may depend on the config; an error there is reported by createRuntime below.
  const servesTasks = (() => {
    try {
      return resolveDefinition(def, config).tools.some((t) => t.task !== undefined);
    } catch {
      return false;
    }
  })();
  const taskStore =
    redisUrl && common.transport === "http" && servesTasks
      ? await onRedis((url) => RedisTaskStore.connect({ url, keyPrefix: `toolshed:${def.name}:tasks` }))
      : undefined;
  let runtime;
  try {
    runtime = createRuntime(def, {
      config,
      logger,
      ...(common.requestStateKeys?.length ? { requestStateKeys: common.requestStateKeys } : {}),
      confirm: common.confirm,
      ...(common.toolMode ? { toolMode: common.toolMode } : {}),
      ...(common.searchThreshold !== undefined ? { searchThreshold: common.searchThreshold } : {}),
      ...(redisUrl ? { redisUrl } : {}),
      tasks: {
        ...(taskStore ? { store: taskStore } : {}),
        ttlMs: common.taskTtlMs,
        leaseMs: common.taskLeaseMs,
        maxHandovers: common.taskMaxHandovers,
        sweepMs: common.taskSweepMs,
        maxPerOwner: common.maxTasksPerPrincipal,
      },
      // Change notifications cross replicas through Redis; an outage never stops the server.
      ...(common.redisUrl
        ? {
            changes: await RedisChangeBus.create({
              url: common.redisUrl,
              channel: `toolshed:${def.name}:changes`,
              logger,
            }),
          }
        : {}),
    });
  } catch (err) {
    if (err instanceof InvalidServerDefinition) {
      process.stderr.write(`${bin}: refusing to start: ${err.message}\n`);
      process.exit(1);
    }
    // A tool list built from the config (e.g. an unknown toolset) refuses it as a usage error.
    if (err instanceof UsageError) {
      process.stderr.write(`${bin}: ${err.message} (run ${bin} --help for the options)\n`);
      process.exit(2);
    }
    throw err;
  }
  const rt = runtime;
  const stopTracing = await installOtlpFromEnv(def, options.env ?? process.env, logger);
  const graceMs = common.shutdownTimeoutSeconds * 1000;
  let stopping: Promise<void> | undefined;

  if (common.transport === "stdio") {
    const stdio = await serveStdio(rt, { maxMessageBytes: common.maxBodyBytes });
    logger.info({ transport: "stdio", version: def.version }, `${bin} ready on stdio`);
    const stop = (reason: string) =>
      (stopping ??= (async () => {
        logger.info({ reason }, "shutting down");
        rt.beginShutdown();
        const drained = await rt.drain(graceMs);
        if (!drained) logger.warn({ inflight: rt.inflight }, "shutdown deadline passed; cancelling calls");
        await stdio.close();
        await rt.close();
        await stopTracing?.();
        process.exit(0);
      })());
    onSignals(stop);
    void stdio.closed.then(() => stop("stdin closed"));
    return;
  }

  let auth: HttpAuth | undefined;
  try {
    auth = authFromSettings(
      {
        serverName: def.name,
        apiKeys: common.apiKeys,
        jwtIssuer: common.jwtIssuer,
        jwtAudience: common.jwtAudience,
        jwksUrl: common.jwksUrl,
        jwtPublicKey: common.jwtPublicKey,
        publicUrl: common.publicUrl,
        authServers: common.authServers,
        rateLimit: common.rateLimit,
        toolRateLimit: common.toolRateLimit,
        authFailureLimit: common.authFailureLimit,
        redisUrl: common.redisUrl,
      },
      `http://${common.host.includes(":") ? `[${common.host}]` : common.host}:${common.port}/mcp`,
      logger,
    );
  } catch (err) {
    process.stderr.write(`${bin}: ${(err as Error).message} (run ${bin} --help for the options)\n`);
    process.exit(2);
  }
  if (!auth && !isLoopback(common.host) && !common.insecureNoAuth) {
    process.stderr.write(
      `${bin}: refusing to serve HTTP on ${common.host} without authentication: set TOOLSHED_API_KEYS or ` +
        `TOOLSHED_JWT_ISSUER (see --help), bind to 127.0.0.1, or pass --insecure-no-auth to accept the risk\n`,
    );
    process.exit(2);
  }
  const eventStore = redisUrl
    ? await onRedis((url) => RedisEventStore.connect({ url, keyPrefix: `toolshed:${def.name}:events` }))
    : undefined;
  // The HTTP stack (the SDK's Node transport, Hono) is loaded only by servers that serve HTTP.
  const { serveHttp } = await import("./http/app.js");
  let http;
  try {
    http = await serveHttp(rt, {
      ...(eventStore ? { eventStore } : {}),
      ...(auth ? { auth } : {}),
      host: common.host,
      port: common.port,
      stateless: common.stateless,
      jsonResponse: common.jsonResponse,
      ...(common.allowedHosts ? { allowedHosts: common.allowedHosts } : {}),
      ...(common.allowedOrigins ? { allowedOrigins: common.allowedOrigins } : {}),
      maxBodyBytes: common.maxBodyBytes,
      maxSessions: common.maxSessions,
      maxSessionsPerPrincipal: common.maxSessionsPerPrincipal,
      timeouts: { headersMs: common.headersTimeoutSeconds * 1000, bodyMs: common.bodyTimeoutSeconds * 1000 },
      publicMetrics: common.publicMetrics,
      eventStoreMaxBytes: common.eventStoreMaxBytes,
      sessionIdleMs: common.sessionIdleSeconds * 1000,
      streamLeaseMs: common.streamLeaseMs,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "EADDRINUSE"
        ? `port ${common.port} is in use; pick another with --port`
        : code === "EACCES"
          ? `no permission to listen on ${common.host}:${common.port}`
          : code === "EADDRNOTAVAIL" || code === "ENOTFOUND"
            ? `cannot bind to host '${common.host}'; check --host`
            : (err as Error).message;
    process.stderr.write(`${bin}: ${why}\n`);
    process.exit(1);
  }
  const server = http;
  logger.info(
    { transport: "http", url: server.url, stateless: common.stateless, version: def.version },
    `${bin} listening on ${server.url}`,
  );
  if (!auth && !isLoopback(common.host)) {
    logger.warn(
      { host: common.host },
      "listening beyond loopback without authentication: anyone who can reach this port can call every tool; bind to 127.0.0.1 or put an authenticating proxy in front",
    );
  }
  // Prime dependencies so /readyz turns green without waiting for the first call.
  void rt.deps().catch(() => {});
  onSignals(
    (reason) =>
      (stopping ??= (async () => {
        logger.info({ reason, inflight: rt.inflight }, "shutting down");
        await server.close(graceMs);
        await eventStore?.close();
        await stopTracing?.();
        process.exit(0);
      })()),
  );
}

function onSignals(stop: (reason: string) => Promise<void>): void {
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void stop(signal));
}

/** For a server's bin file: `main(server)`; logs a fatal start-up error and exits 1. */
export function main(def: AnyServerDefinition, options?: RunOptions): void {
  runServer(def, options).catch((err: unknown) => {
    createLogger({ name: def.name }).fatal({ err }, "failed to start");
    process.exit(1);
  });
}
