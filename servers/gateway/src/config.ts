import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { ToolshedError } from "@toolshed/server";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/**
 * A secret the gateway holds for an upstream: read from an environment variable (or, when that is
 * unset, from the file named by `<NAME>_FILE`), or from a file. Never a literal in the config file.
 */
const secretSchema = z.union(
  [
    z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }).strict(),
    z.object({ file: z.string().min(1) }).strict(),
  ],
  { error: "a secret reference, { env: NAME } or { file: /path/to/secret }; never the secret itself" },
);
export type SecretRef = z.infer<typeof secretSchema>;

/** A header or env value: plain text (not secret) or a secret reference. */
const valueSchema = z.union([z.string(), secretSchema]);
export type ValueRef = z.infer<typeof valueSchema>;

/** Upstream names become tool prefixes (`github__create_issue`) and URI scheme prefixes (`github+repo://…`). */
export const UPSTREAM_NAME = /^[a-z][a-z0-9-]{0,31}$/;

const NAME_HINT = "lowercase letters, digits and '-', starting with a letter (at most 32)";

// RFC 6749 §3.3 scope-token: the characters the kit's API keys and JWT `scope` claims can carry.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const SCOPES_HINT = "a list of scope names, e.g. [github:read]";

/**
 * Scopes a caller must all hold (the kit's scopes: API keys and JWT `scope` claims). A wildcard is
 * refused: `*` and `github:*` are what a key is granted, and as a requirement `github:*` would be
 * granted only by `github:*` itself, not by `github:read`, which reads wrongly.
 */
const scopesSchema = z
  .array(
    z
      .string({ error: "a scope name (text), e.g. github:read" })
      .regex(SCOPE_TOKEN, "a scope name: printable characters, no spaces, quotes or backslashes")
      .refine((s) => !s.includes("*"), {
        error: "a scope a caller must hold, not a pattern: '*' belongs in the scopes granted to keys",
      }),
    { error: SCOPES_HINT },
  )
  .min(1, { error: `${SCOPES_HINT}; leave \`scopes\` out when every caller may use it` });

const upstreamSchema = z
  .object({
    /** Streamable HTTP: the upstream's MCP endpoint. */
    url: z
      .url({ protocol: /^https?$/, error: "an http(s) URL such as http://127.0.0.1:3001/mcp" })
      .optional(),
    /** Sent as `Authorization: Bearer <secret>` (url upstreams). */
    bearer: secretSchema.optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, "an HTTP header name"), valueSchema).optional(),
    /** stdio: the program to spawn and supervise. */
    command: z.string().min(1).optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), valueSchema).optional(),
    cwd: z.string().optional(),
    /** The prefix of this upstream's tools, prompts and resource URIs; its name unless set. */
    /** `false` mounts the upstream at the root: its names unprefixed (at most one upstream). */
    namespace: z.union([z.string().regex(UPSTREAM_NAME, NAME_HINT), z.literal(false)]).optional(),
    /** Per-call deadline towards this upstream, in ms (60 s). */
    timeoutMs: z.number().int().positive().max(3_600_000).optional(),
    /** Which protocol era to speak: probe (`auto`, the default), or pin the 2025 handshake / 2026-07-28. */
    protocol: z.enum(["auto", "2025", "2026-07-28"]).optional(),
    /**
     * Most requests per minute the gateway sends this upstream (tools/call, resources/read,
     * prompts/get, completion/complete, tasks/get, tasks/update, tasks/cancel; lists are cached),
     * all callers together, per gateway replica (all replicas on a shared Redis); a burst may use
     * the whole minute's share. Over it, a call is refused with rate_limited and the retry time.
     */
    rateLimit: z
      .object({
        perMinute: z
          .number({ error: "a whole number of requests per minute, e.g. 600" })
          .int({ error: "a whole number of requests per minute, e.g. 600" })
          .positive({ error: "a whole number of requests per minute, e.g. 600" })
          .max(1_000_000),
      })
      .strict()
      .optional(),
    /**
     * Answers of this upstream's read-only tools (those it lists with `readOnlyHint: true`) served
     * again for the same tool and arguments for `ttlSeconds`, without asking the upstream (nor
     * counting against its rate limit). Per caller unless `shared` (every caller sees the same
     * answer: only for upstreams whose answers do not depend on who asks). Per gateway replica.
     */
    cache: z
      .object({
        ttlSeconds: z
          .number({ error: "seconds to keep an answer, a whole number from 1 to 86400, e.g. 60" })
          .int({ error: "seconds to keep an answer, a whole number from 1 to 86400, e.g. 60" })
          .min(1, { error: "seconds to keep an answer, a whole number from 1 to 86400, e.g. 60" })
          .max(86_400, { error: "seconds to keep an answer, a whole number from 1 to 86400, e.g. 60" }),
        maxEntries: z
          .number({ error: "a whole number of answers from 1 to 100000 (default 1000)" })
          .int({ error: "a whole number of answers from 1 to 100000 (default 1000)" })
          .min(1, { error: "a whole number of answers from 1 to 100000 (default 1000)" })
          .max(100_000, { error: "a whole number of answers from 1 to 100000 (default 1000)" })
          .optional(),
        shared: z.boolean({ error: "true or false (default false: each caller its own answers)" }).optional(),
      })
      .strict()
      .optional(),
    /**
     * Scopes a caller needs for anything of this upstream: to see and call its tools, read its
     * resources and get its prompts (checked when auth is on). None: every caller, as before.
     */
    scopes: scopesSchema.optional(),
    /**
     * Per tool, by the upstream's own name (`create_issue`, not `github__create_issue`): scopes a
     * caller needs for that tool in addition to the upstream's. Names the upstream does not list are
     * warned about in the log, not refused, since an upstream's tools change under the gateway.
     */
    tools: z
      .record(
        z.string().min(1, { error: "a tool name as the upstream lists it" }),
        z.object({ scopes: scopesSchema }).strict(),
        { error: "a map of the upstream's tool names to { scopes: [...] }" },
      )
      .optional(),
  })
  .strict()
  .superRefine((up, ctx) => {
    if ((up.url === undefined) === (up.command === undefined)) {
      ctx.addIssue({
        code: "custom",
        message:
          "give either `url` (a Streamable HTTP upstream) or `command` (a stdio upstream), not both or neither",
      });
      return;
    }
    const wrong = up.url !== undefined ? ["args", "env", "cwd"] : ["bearer", "headers"];
    for (const key of wrong) {
      if ((up as Record<string, unknown>)[key] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `only for ${up.url !== undefined ? "`command` (stdio)" : "`url` (HTTP)"} upstreams; remove it`,
        });
      }
    }
  });

export type UpstreamConfig = z.infer<typeof upstreamSchema>;

/** Tool patterns: `github__*`, `github__create_issue`, or `*`. */
const patternSchema = z.string().regex(/^[A-Za-z0-9_.*-]+$/, "a tool name or a pattern with '*'");

export const gatewayFileSchema = z
  .object({
    /** None is fine: the gateway starts, lists nothing, is not ready, and takes them on reload. */
    upstreams: z
      .record(z.string(), upstreamSchema)
      .nullish()
      .transform((v) => v ?? {}),
    /** Named subsets of the tools (and the prompts and resources of the upstreams they touch). */
    virtualServers: z
      .record(z.string(), z.object({ tools: z.array(patternSchema).min(1) }).strict())
      .default({}),
    /** Principal id (API key id, JWT `sub`) → the virtual server it sees. */
    principals: z.record(z.string().min(1), z.string()).default({}),
    /** What a caller not listed in `principals` sees: `all`, `none`, or a virtual server's name. */
    defaultAccess: z.string().default("all"),
  })
  .strict()
  .superRefine((file, ctx) => {
    for (const name of Object.keys(file.upstreams)) {
      if (!UPSTREAM_NAME.test(name)) {
        ctx.addIssue({ code: "custom", path: ["upstreams", name], message: `the name must be ${NAME_HINT}` });
      }
    }
    for (const name of Object.keys(file.virtualServers)) {
      if (!/^[a-z][a-z0-9-]{0,63}$/.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: ["virtualServers", name],
          message: `the name must be ${NAME_HINT}`,
        });
      }
    }
    const names = new Set(Object.keys(file.virtualServers));
    for (const [principal, server] of Object.entries(file.principals)) {
      if (!names.has(server) && server !== "all" && server !== "none") {
        ctx.addIssue({
          code: "custom",
          path: ["principals", principal],
          message: `names virtual server '${server}', which is not defined; define it under virtualServers or write 'all' or 'none'`,
        });
      }
    }
    if (!names.has(file.defaultAccess) && file.defaultAccess !== "all" && file.defaultAccess !== "none") {
      ctx.addIssue({
        code: "custom",
        path: ["defaultAccess"],
        message: `names virtual server '${file.defaultAccess}', which is not defined; write 'all', 'none' or a name under virtualServers`,
      });
    }
    const seen = new Map<string, string>();
    for (const [name, up] of Object.entries(file.upstreams)) {
      const ns = up.namespace === false ? "(the root)" : (up.namespace ?? name);
      const other = seen.get(ns);
      if (other) {
        ctx.addIssue({
          code: "custom",
          path: ["upstreams", name, "namespace"],
          message: `namespace ${ns === "(the root)" ? ns : `'${ns}'`} is already used by upstream '${other}'; give one of them another namespace`,
        });
      }
      seen.set(ns, name);
    }
  });

export type GatewayFile = z.infer<typeof gatewayFileSchema>;

/** The config of a gateway started without a file: no upstreams, everyone sees everything (nothing). */
export function emptyGatewayFile(): GatewayFile {
  return gatewayFileSchema.parse({});
}

/** Reads and validates a gateway config file (YAML, or JSON by its `.json` extension). */
export function loadGatewayFile(path: string): GatewayFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ToolshedError(
      "invalid_input",
      `cannot read the gateway config '${path}' (${(err as NodeJS.ErrnoException).code ?? "error"}); check --config / TOOLSHED_GATEWAY_CONFIG`,
    );
  }
  return parseGatewayFile(text, path);
}

export function parseGatewayFile(text: string, source: string): GatewayFile {
  let raw: unknown;
  try {
    raw = extname(source).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ToolshedError(
      "invalid_input",
      `${source} is not valid ${extname(source) === ".json" ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`,
    );
  }
  const parsed = gatewayFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 10).map((issue) => {
      const at = issue.path.length ? issue.path.join(".") : "(top level)";
      return `${at}: ${issue.message}`;
    });
    throw new ToolshedError(
      "invalid_input",
      `${source} is not a valid gateway config:\n- ${lines.join("\n- ")}`,
    );
  }
  return parsed.data;
}

/** Resolves a secret reference; throws a message naming the variable or file, never its value. */
export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv, where: string): string {
  if ("env" in ref) {
    const direct = env[ref.env];
    if (direct !== undefined && direct !== "") return direct;
    const file = env[`${ref.env}_FILE`];
    if (file) return readSecretFile(file, where);
    throw new ToolshedError(
      "invalid_input",
      `${where}: environment variable ${ref.env} (or ${ref.env}_FILE) is not set; set it to the upstream's credential`,
    );
  }
  return readSecretFile(ref.file, where);
}

function readSecretFile(path: string, where: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (err) {
    throw new ToolshedError(
      "invalid_input",
      `${where}: cannot read secret file '${path}' (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

export function readValue(value: ValueRef, env: NodeJS.ProcessEnv, where: string): string {
  return typeof value === "string" ? value : readSecret(value, env, where);
}

/** The gateway's own settings (flags and TOOLSHED_* env vars, through the kit). */
export const gatewayConfigSchema = z.object({
  config: z.string().optional().meta({
    env: "TOOLSHED_GATEWAY_CONFIG",
    description:
      "Path of the gateway config file (YAML or JSON) listing the upstreams; reloaded on change or SIGHUP. Without one the gateway starts with no upstreams (not ready).",
  }),
  mode: z.enum(["all", "search"]).default("all").meta({
    env: "TOOLSHED_GATEWAY_MODE",
    description:
      "all: every upstream tool, namespaced; search: three tools (search_tools, describe_tool, call_tool) instead of every schema.",
  }),
  largeResultBytes: z
    .number()
    .int()
    .min(0)
    .max(64 * 1024 * 1024)
    .default(64 * 1024)
    .meta({
      env: "TOOLSHED_GATEWAY_LARGE_RESULT_BYTES",
      description:
        "A tool answer with more text than this many bytes (and no structured content) is kept by the gateway and sent as its first 4 KiB, a resource link and a note; the read_result tool (or resources/read of the link) pages the rest. 0 sends every answer whole.",
    }),
  startWaitMs: z.number().int().min(0).max(600_000).default(10_000).meta({
    env: "TOOLSHED_GATEWAY_START_WAIT_MS",
    description:
      "How long the gateway waits at start for its upstreams' first connections before it serves (over stdio: answers the client's first message). An upstream still connecting then joins when it is up, announced with tools/list_changed, so one slow or hung upstream does not hold the client's initialize.",
  }),
});
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
