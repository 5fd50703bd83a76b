import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isLogLevel, type LogLevel } from "@toolshed/logging";
import { z } from "zod";
import { DEFAULT_MAX_MESSAGE_BYTES, type AnyObjectSchema, type AnyServerDefinition } from "../define.js";

/** What every server binary accepts, before its own settings. */
export interface CommonOptions {
  transport: "stdio" | "http";
  host: string;
  port: number;
  stateless: boolean;
  jsonResponse: boolean;
  logLevel: LogLevel;
  allowedHosts: string[] | undefined;
  allowedOrigins: string[] | undefined;
  maxBodyBytes: number;
  maxSessions: number;
  maxSessionsPerPrincipal: number;
  headersTimeoutSeconds: number;
  bodyTimeoutSeconds: number;
  eventStoreMaxBytes: number;
  authFailureLimit: string;
  publicMetrics: boolean;
  sessionIdleSeconds: number;
  shutdownTimeoutSeconds: number;
  redisUrl: string | undefined;
  requestStateKeys: string[] | undefined;
  confirm: "ask" | "never";
  taskTtlMs: number;
  taskLeaseMs: number;
  taskMaxHandovers: number;
  taskSweepMs: number;
  streamLeaseMs: number;
  maxTasksPerPrincipal: number;
  apiKeys: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string[] | undefined;
  jwksUrl: string | undefined;
  jwtPublicKey: string | undefined;
  publicUrl: string | undefined;
  authServers: string[] | undefined;
  rateLimit: string | undefined;
  toolRateLimit: string | undefined;
  insecureNoAuth: boolean;
  /** Unset: the server's own default (`auto` unless it says). */
  toolMode: "all" | "search" | "auto" | undefined;
  searchThreshold: number | undefined;
}

export type ParsedCommandLine =
  | { kind: "help"; text: string }
  | { kind: "version"; text: string }
  | { kind: "run"; common: CommonOptions; config: unknown };

/** A bad flag or env var: one line for stderr, exit code 2. */
export class UsageError extends Error {}

type Kind = "string" | "number" | "boolean" | "list" | "enum";

interface OptionSpec {
  key: string;
  flag: string;
  env: string[];
  kind: Kind;
  description: string;
  defaultValue?: unknown;
  choices?: readonly string[];
}

/** Numeric options that must be above 0. */
const POSITIVE = new Set([
  "maxSessionsPerPrincipal",
  "headersTimeoutSeconds",
  "bodyTimeoutSeconds",
  "eventStoreMaxBytes",
  "taskTtlMs",
  "taskLeaseMs",
  "streamLeaseMs",
  "maxTasksPerPrincipal",
  "searchThreshold",
]);

/**
 * Leases renewed four times per lease: below a second, an event-loop stall or a slow Redis round trip
 * would let a live replica's lease lapse and its calls or tasks be reported dead.
 */
const AT_LEAST: Record<string, number> = { taskLeaseMs: 1000, streamLeaseMs: 1000 };

const COMMON: OptionSpec[] = [
  {
    key: "transport",
    flag: "transport",
    env: ["TOOLSHED_TRANSPORT"],
    kind: "enum",
    choices: ["stdio", "http"],
    defaultValue: "stdio",
    description: "how clients connect",
  },
  {
    key: "host",
    flag: "host",
    env: ["TOOLSHED_HOST"],
    kind: "string",
    defaultValue: "127.0.0.1",
    description: "HTTP bind address",
  },
  {
    key: "port",
    flag: "port",
    env: ["TOOLSHED_PORT", "PORT"],
    kind: "number",
    defaultValue: 3000,
    description: "HTTP port (0 picks a free one)",
  },
  {
    key: "stateless",
    flag: "stateless",
    env: ["TOOLSHED_STATELESS"],
    kind: "boolean",
    defaultValue: false,
    description: "no sessions for 2025 clients either (2026-07-28 never has them): every POST stands alone",
  },
  {
    key: "jsonResponse",
    flag: "json-response",
    env: ["TOOLSHED_JSON_RESPONSE"],
    kind: "boolean",
    defaultValue: false,
    description: "answer HTTP POSTs with JSON instead of SSE",
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: ["TOOLSHED_LOG_LEVEL", "LOG_LEVEL"],
    kind: "enum",
    choices: ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
    defaultValue: "info",
    description: "log level (logs go to stderr)",
  },
  {
    key: "allowedHosts",
    flag: "allowed-hosts",
    env: ["TOOLSHED_ALLOWED_HOSTS"],
    kind: "list",
    description:
      "Host header values accepted (default: loopback names when bound to loopback, any otherwise)",
  },
  {
    key: "allowedOrigins",
    flag: "allowed-origins",
    env: ["TOOLSHED_ALLOWED_ORIGINS"],
    kind: "list",
    description: "browser Origins accepted (default: same host)",
  },
  {
    key: "maxBodyBytes",
    flag: "max-body-bytes",
    env: ["TOOLSHED_MAX_BODY_BYTES"],
    kind: "number",
    defaultValue: DEFAULT_MAX_MESSAGE_BYTES,
    description: "largest request: an HTTP body (413 beyond) or a stdio message (error answer beyond)",
  },
  {
    key: "maxSessions",
    flag: "max-sessions",
    env: ["TOOLSHED_MAX_SESSIONS"],
    kind: "number",
    defaultValue: 1000,
    description: "open HTTP sessions at most",
  },
  {
    key: "maxSessionsPerPrincipal",
    flag: "max-sessions-per-principal",
    env: ["TOOLSHED_MAX_SESSIONS_PER_PRINCIPAL"],
    kind: "number",
    defaultValue: 100,
    description: "open HTTP sessions one principal may hold (429 beyond: close idle ones with DELETE)",
  },
  {
    key: "headersTimeoutSeconds",
    flag: "headers-timeout-seconds",
    env: ["TOOLSHED_HEADERS_TIMEOUT_SECONDS"],
    kind: "number",
    defaultValue: 10,
    description: "longest wait for an HTTP request's headers",
  },
  {
    key: "bodyTimeoutSeconds",
    flag: "body-timeout-seconds",
    env: ["TOOLSHED_BODY_TIMEOUT_SECONDS"],
    kind: "number",
    defaultValue: 30,
    description: "longest wait for an HTTP request's body (408 and the connection closed beyond)",
  },
  {
    key: "eventStoreMaxBytes",
    flag: "event-store-max-bytes",
    env: ["TOOLSHED_EVENT_STORE_MAX_BYTES"],
    kind: "number",
    defaultValue: 64 * 1024 * 1024,
    description: "bytes of resumable-stream events kept in memory (without --redis-url); oldest go first",
  },
  {
    key: "sessionIdleSeconds",
    flag: "session-idle-seconds",
    env: ["TOOLSHED_SESSION_IDLE_SECONDS"],
    kind: "number",
    defaultValue: 1800,
    description: "close HTTP sessions idle this long",
  },
  {
    key: "redisUrl",
    flag: "redis-url",
    env: ["TOOLSHED_REDIS_URL"],
    kind: "string",
    description:
      "Redis shared by replicas: resumable HTTP streams, tasks, rate limits, change notifications (default: in memory)",
  },
  {
    key: "requestStateKeys",
    flag: "request-state-key",
    env: ["TOOLSHED_REQUEST_STATE_KEYS"],
    kind: "list",
    description:
      "HMAC keys (>= 32 bytes each, comma-separated; the first signs, all verify) for the requestState of questions to the user; replicas need the same keys (default: a random key per process)",
  },
  {
    key: "confirm",
    flag: "confirm",
    env: ["TOOLSHED_CONFIRM"],
    kind: "enum",
    choices: ["ask", "never"],
    defaultValue: "ask",
    description:
      "before destructive actions, ask a person (ask: a client that cannot be asked is refused) or never (unattended agents)",
  },
  {
    key: "taskTtlMs",
    flag: "task-ttl-ms",
    env: ["TOOLSHED_TASK_TTL_MS"],
    kind: "number",
    defaultValue: 3_600_000,
    description:
      "how long a task (a long tool call run for a client of the tasks extension) and its result are kept, in ms",
  },
  {
    key: "taskLeaseMs",
    flag: "task-lease-ms",
    env: ["TOOLSHED_TASK_LEASE_MS"],
    kind: "number",
    defaultValue: 15_000,
    description:
      "a running task's replica renews its lease 4 times a second; a task whose lease lapsed this long (its replica died) is run again by another replica if its tool is read-only or idempotent, else reported failed",
  },
  {
    key: "taskMaxHandovers",
    flag: "task-max-handovers",
    env: ["TOOLSHED_TASK_MAX_HANDOVERS"],
    kind: "number",
    defaultValue: 2,
    description:
      "how many times one task of a read-only or idempotent tool is run again on another replica after its replica died, before it is reported failed; 0 never runs a task again",
  },
  {
    key: "taskSweepMs",
    flag: "task-sweep-ms",
    env: ["TOOLSHED_TASK_SWEEP_MS"],
    kind: "number",
    defaultValue: 5_000,
    description:
      "with Redis, how often each replica looks for tasks whose lease lapsed and hands them over (or reports them failed) although no client polls them; 0 leaves that to the next tasks/get",
  },
  {
    key: "streamLeaseMs",
    flag: "stream-lease-ms",
    env: ["TOOLSHED_STREAM_LEASE_MS"],
    kind: "number",
    defaultValue: 5_000,
    description:
      "with Redis, the replica running a 2025 client's call renews a lease on its stream; a client resuming that stream on another replica gets an error once the lease lapsed this long (its replica died)",
  },
  {
    key: "maxTasksPerPrincipal",
    flag: "max-tasks-per-principal",
    env: ["TOOLSHED_MAX_TASKS_PER_PRINCIPAL"],
    kind: "number",
    defaultValue: 100,
    description: "tasks one caller may keep at once (until they expire); more are refused",
  },
  {
    key: "apiKeys",
    flag: "api-keys",
    env: ["TOOLSHED_API_KEYS"],
    kind: "string",
    description: "accepted API keys as 'id:sha256hex:scope scope;…' (hashes, never keys; '!id' revoked)",
  },
  {
    key: "jwtIssuer",
    flag: "jwt-issuer",
    env: ["TOOLSHED_JWT_ISSUER"],
    kind: "string",
    description: "accept JWT bearer tokens from this issuer (with --jwt-audience and --jwks-url)",
  },
  {
    key: "jwtAudience",
    flag: "jwt-audience",
    env: ["TOOLSHED_JWT_AUDIENCE"],
    kind: "list",
    description: "audiences a token must carry one of",
  },
  {
    key: "jwksUrl",
    flag: "jwks-url",
    env: ["TOOLSHED_JWKS_URL"],
    kind: "string",
    description: "the issuer's JWKS URL",
  },
  {
    key: "jwtPublicKey",
    flag: "jwt-public-key",
    env: ["TOOLSHED_JWT_PUBLIC_KEY"],
    kind: "string",
    description: "a PEM or JWK public key instead of a JWKS URL",
  },
  {
    key: "publicUrl",
    flag: "public-url",
    env: ["TOOLSHED_PUBLIC_URL"],
    kind: "string",
    description:
      "the public URL of /mcp, for RFC 9728 metadata and token resources (default: the bind address)",
  },
  {
    key: "authServers",
    flag: "auth-servers",
    env: ["TOOLSHED_AUTH_SERVERS"],
    kind: "list",
    description: "authorization servers to advertise (default: the JWT issuer)",
  },
  {
    key: "rateLimit",
    flag: "rate-limit",
    env: ["TOOLSHED_RATE_LIMIT"],
    kind: "string",
    description:
      "requests per principal as 'capacity,refillPerSecond', e.g. '120,2' (Redis when --redis-url)",
  },
  {
    key: "toolRateLimit",
    flag: "tool-rate-limit",
    env: ["TOOLSHED_TOOL_RATE_LIMIT"],
    kind: "string",
    description: "calls per principal and tool, same format",
  },
  {
    key: "authFailureLimit",
    flag: "auth-failure-limit",
    env: ["TOOLSHED_AUTH_FAILURE_LIMIT"],
    kind: "string",
    defaultValue: "30,0.5",
    description:
      "failed authentications per client address, same format, then 429 for every request from it; 'off' to disable",
  },
  {
    key: "publicMetrics",
    flag: "public-metrics",
    env: ["TOOLSHED_PUBLIC_METRICS"],
    kind: "boolean",
    defaultValue: false,
    description:
      "serve /metrics without credentials when auth is on (e.g. for a scraper on a private network)",
  },
  {
    key: "insecureNoAuth",
    flag: "insecure-no-auth",
    env: ["TOOLSHED_INSECURE_NO_AUTH"],
    kind: "boolean",
    defaultValue: false,
    description: "allow HTTP beyond loopback without authentication (not recommended)",
  },
  {
    key: "toolMode",
    flag: "tool-mode",
    env: ["TOOLSHED_TOOL_MODE"],
    kind: "enum",
    choices: ["all", "search", "auto"],
    description:
      "what tools/list shows: every tool (all), three tools to search, describe and call them (search), or search above --search-threshold tools (auto) (default: the server's, else auto)",
  },
  {
    key: "searchThreshold",
    flag: "search-threshold",
    env: ["TOOLSHED_SEARCH_THRESHOLD"],
    kind: "number",
    description:
      "--tool-mode auto turns to search mode above this many tools (default: the server's, else 40)",
  },
  {
    key: "shutdownTimeoutSeconds",
    flag: "shutdown-timeout-seconds",
    env: ["TOOLSHED_SHUTDOWN_TIMEOUT_SECONDS"],
    kind: "number",
    defaultValue: 10,
    description: "on SIGTERM, how long in-flight calls may finish",
  },
];

/** Parses argv and env into the common options and the server's own config; never exits. */
export function parseCommandLine(
  def: AnyServerDefinition,
  argv: string[],
  env: NodeJS.ProcessEnv,
): ParsedCommandLine {
  const schema = def.config as AnyObjectSchema | undefined;
  const own = schema ? configSpecs(schema) : [];
  const specs = [...COMMON, ...own];
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      allowNegative: true,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
        ...Object.fromEntries(
          specs.map((s) => [
            s.flag,
            {
              type: s.kind === "boolean" ? ("boolean" as const) : ("string" as const),
              multiple: s.kind === "list",
            },
          ]),
        ),
      },
    }));
  } catch (err) {
    throw new UsageError(
      String((err as Error).message)
        .split("\n")[0]!
        .replace(/\.$/, ""),
    );
  }
  if (values.help) return { kind: "help", text: helpText(def, specs) };
  if (values.version) return { kind: "version", text: def.version };

  const read = (spec: OptionSpec): unknown => {
    const flagValue = values[spec.flag];
    if (flagValue !== undefined) return coerce(spec, flagValue, `--${spec.flag}`);
    for (const name of spec.env) {
      const v = env[name];
      if (v !== undefined && v !== "") return coerce(spec, v, name);
    }
    // Secrets by reference: NAME_FILE names a file holding the value (Docker and Kubernetes secrets).
    for (const name of spec.env) {
      const path = env[`${name}_FILE`];
      if (path !== undefined && path !== "")
        return coerce(spec, readSecretFile(`${name}_FILE`, path), `${name}_FILE`);
    }
    return spec.defaultValue;
  };

  const common = Object.fromEntries(COMMON.map((s) => [s.key, read(s)])) as unknown as CommonOptions;
  if (!isLogLevel(common.logLevel)) throw new UsageError(`invalid --log-level '${String(common.logLevel)}'`);
  if (!Number.isInteger(common.port) || common.port < 0 || common.port > 65535) {
    throw new UsageError(`invalid --port '${common.port}': expected 0-65535`);
  }
  if (!(common.taskSweepMs >= 0)) {
    throw new UsageError(
      `invalid --task-sweep-ms '${common.taskSweepMs}' (TOOLSHED_TASK_SWEEP_MS): expected 0 (no sweep) or more`,
    );
  }
  if (!Number.isInteger(common.taskMaxHandovers) || common.taskMaxHandovers < 0) {
    throw new UsageError(
      `invalid --task-max-handovers '${common.taskMaxHandovers}' (TOOLSHED_TASK_MAX_HANDOVERS): expected a whole number, 0 or more`,
    );
  }
  for (const spec of COMMON.filter((s) => POSITIVE.has(s.key))) {
    const value = (common as unknown as Record<string, number | undefined>)[spec.key];
    if (value === undefined) continue;
    if (!(value > 0)) throw new UsageError(`invalid --${spec.flag} '${value}': expected a number above 0`);
    const least = AT_LEAST[spec.key];
    if (least !== undefined && value < least) {
      throw new UsageError(
        `invalid --${spec.flag} '${value}' (${spec.env[0]}): at least ${least} ms; keep it well above the longest event-loop stall or Redis round trip (default ${String(spec.defaultValue)})`,
      );
    }
  }

  for (const key of common.requestStateKeys ?? []) {
    if (Buffer.byteLength(key, "utf8") < 32) {
      throw new UsageError(
        "invalid --request-state-key (TOOLSHED_REQUEST_STATE_KEYS): every key must be at least 32 bytes; generate one with `openssl rand -base64 32`",
      );
    }
  }

  let config: unknown = undefined;
  if (schema) {
    const raw: Record<string, unknown> = {};
    for (const spec of own) {
      const v = read(spec);
      if (v !== undefined) raw[spec.key] = v;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const spec = own.find((s) => s.key === issue.path[0]);
      const name = spec ? `--${spec.flag} (${spec.env[0]})` : "configuration";
      throw new UsageError(`invalid ${name}: ${issue.message}`);
    }
    config = parsed.data;
  }
  return { kind: "run", common, config };
}

/** The value a `*_FILE` variable points at, without the trailing newline editors and `echo` add. */
function readSecretFile(variable: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new UsageError(
      `${variable}: cannot read '${path}' (${code}); mount the secret there or unset ${variable}`,
    );
  }
  return text.replace(/\r?\n$/, "");
}

function coerce(spec: OptionSpec, value: unknown, source: string): unknown {
  const one = (v: unknown): unknown => {
    if (typeof v === "boolean") return v;
    const s = String(v);
    switch (spec.kind) {
      case "number": {
        const n = Number(s);
        if (s.trim() === "" || !Number.isFinite(n))
          throw new UsageError(`invalid ${source} '${s}': expected a number`);
        return n;
      }
      case "boolean": {
        if (/^(1|true|yes|on)$/i.test(s)) return true;
        if (/^(0|false|no|off)$/i.test(s)) return false;
        throw new UsageError(`invalid ${source} '${s}': expected true or false`);
      }
      case "enum":
        if (!spec.choices!.includes(s)) {
          throw new UsageError(`invalid ${source} '${s}': expected one of ${spec.choices!.join(", ")}`);
        }
        return s;
      default:
        return s;
    }
  };
  if (spec.kind === "list") {
    const items = Array.isArray(value) ? value : [value];
    return items
      .flatMap((v) => String(v).split(","))
      .map((s) => s.trim())
      .filter(Boolean);
  }
  return one(value);
}

/** One option per config field: `dataDir` -> `--data-dir` and `TOOLSHED_DATA_DIR` (plus `.meta({ env })`). */
function configSpecs(schema: AnyObjectSchema): OptionSpec[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]) => {
    const { kind, choices, defaultValue } = describeType(field);
    const meta = (z.globalRegistry.get(field) ?? {}) as { env?: string | string[] };
    const snake = key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
    const extraEnv = meta.env === undefined ? [] : Array.isArray(meta.env) ? meta.env : [meta.env];
    return {
      key,
      flag: key.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase(),
      env: [`TOOLSHED_${snake}`, ...extraEnv],
      kind,
      description: findDescription(field) ?? "",
      defaultValue: undefined,
      ...(choices ? { choices } : {}),
      ...(defaultValue !== undefined ? { shownDefault: defaultValue } : {}),
    };
  });
}

function describeType(field: z.ZodType): { kind: Kind; choices?: readonly string[]; defaultValue?: unknown } {
  let current: z.ZodType = field;
  let defaultValue: unknown;
  for (let depth = 0; depth < 8; depth++) {
    const def = current.def as {
      type: string;
      innerType?: z.ZodType;
      defaultValue?: unknown;
      entries?: Record<string, string>;
    };
    if (def.type === "default") defaultValue = def.defaultValue;
    if (def.innerType) {
      current = def.innerType;
      continue;
    }
    switch (def.type) {
      case "number":
      case "int":
        return { kind: "number", defaultValue };
      case "boolean":
        return { kind: "boolean", defaultValue };
      case "array":
        return { kind: "list", defaultValue };
      case "enum":
        return { kind: "enum", choices: Object.values(def.entries ?? {}), defaultValue };
      default:
        return { kind: "string", defaultValue };
    }
  }
  return { kind: "string", defaultValue };
}

function findDescription(field: z.ZodType): string | undefined {
  let current: z.ZodType | undefined = field;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current.description) return current.description;
    current = (current.def as { innerType?: z.ZodType }).innerType;
  }
  return undefined;
}

function helpText(def: AnyServerDefinition, specs: OptionSpec[]): string {
  const bin = `toolshed-${def.name}`;
  const line = (s: OptionSpec) => {
    const arg =
      s.kind === "boolean"
        ? ` (or --no-${s.flag})`
        : s.kind === "enum"
          ? ` <${s.choices!.join("|")}>`
          : s.kind === "list"
            ? " <a,b,...>"
            : ` <${s.kind}>`;
    const shown = s.defaultValue ?? (s as OptionSpec & { shownDefault?: unknown }).shownDefault;
    const dflt = shown === undefined || shown === false ? "" : ` (default: ${JSON.stringify(shown)})`;
    return `  --${s.flag}${arg}\n      ${s.description}${dflt}  [env: ${s.env.join(", ")}]`;
  };
  const own = specs.slice(COMMON.length);
  return [
    `${bin} ${def.version}${def.title ? ` - ${def.title}` : ""}`,
    "",
    `Usage: ${bin} [options]`,
    "",
    "Options:",
    ...COMMON.map(line),
    "  -h, --help      show this help",
    "  -v, --version   print the version",
    "  Every variable NAME also reads from the file named by NAME_FILE (for Docker and Kubernetes secrets).",
    ...(own.length ? ["", `${def.name} options:`, ...own.map(line)] : []),
    "",
  ].join("\n");
}
