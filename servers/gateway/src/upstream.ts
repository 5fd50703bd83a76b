import {
  Client,
  ProtocolError,
  StreamableHTTPClientTransport,
  type CallToolResult,
  type ClientOptions,
  type GetPromptResult,
  type PriorDiscovery,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplateType as ResourceTemplate,
  type Tool,
  type Transport,
} from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { ToolshedError } from "@toolshed/errors";
import type { Logger } from "@toolshed/logging";
import { readSecret, readValue, type UpstreamConfig } from "./config.js";

export type UpstreamState = "starting" | "ready" | "down" | "closed";

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;
/** How often a ready HTTP upstream is re-listed (health and fresh tool lists). */
const HEALTH_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 60_000;

export interface ForwardOptions {
  signal: AbortSignal;
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

/**
 * One upstream MCP server: a real SDK v2 client over Streamable HTTP or a supervised stdio child,
 * its lists cached, its era verdict (discover result or legacy) reused on every reconnect, and its
 * credential resolved here and kept out of every message and log line.
 */
export class Upstream {
  readonly name: string;
  /** The prefix of its names; "" for the upstream mounted at the root (`namespace: false`). */
  readonly namespace: string;
  readonly spec: UpstreamConfig;
  /** The spec as JSON: a reload keeps an upstream whose spec did not change. */
  readonly fingerprint: string;
  state: UpstreamState = "starting";
  /** Why the upstream is down (safe to show: no credential, no header). */
  reason = "not connected yet";
  tools: Tool[] = [];
  resources: Resource[] = [];
  templates: ResourceTemplate[] = [];
  prompts: Prompt[] = [];
  /** Times the stdio child was restarted after it died. */
  restarts = 0;
  /** Bumped whenever the lists change, so the catalogue can rebuild its index. */
  version = 0;
  #client: Client | undefined;
  #prior: PriorDiscovery | undefined;
  #backoff = MIN_BACKOFF_MS;
  #timer: NodeJS.Timeout | undefined;
  #inflight = 0;
  #idle: (() => void)[] = [];
  #connecting: Promise<void> | undefined;
  #firstAttempt: Promise<void>;
  #settleFirst!: () => void;
  readonly #log: Logger;
  readonly #env: NodeJS.ProcessEnv;
  readonly #onChange: () => void;

  constructor(
    name: string,
    spec: UpstreamConfig,
    options: { logger: Logger; env?: NodeJS.ProcessEnv; onChange?: () => void },
  ) {
    this.name = name;
    this.namespace = spec.namespace === false ? "" : (spec.namespace ?? name);
    this.spec = spec;
    this.fingerprint = JSON.stringify(spec);
    this.#log = options.logger.child({ upstream: name });
    this.#env = options.env ?? process.env;
    this.#onChange = options.onChange ?? (() => {});
    this.#firstAttempt = new Promise((resolve) => (this.#settleFirst = resolve));
  }

  /** Starts connecting (in the background); resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    void this.#connect();
    return this.#firstAttempt;
  }

  /** The era the connection speaks ('modern' = 2026-07-28, 'legacy' = 2025), once connected. */
  get era(): string | undefined {
    return this.#client?.getProtocolEra();
  }

  /** The discover result (2026-07-28 upstreams) or legacy verdict reused on reconnects. */
  get prior(): PriorDiscovery | undefined {
    return this.#prior;
  }

  /** The stdio child's pid while it runs. */
  get pid(): number | undefined {
    const transport = this.#client?.transport;
    return transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
  }

  get inflight(): number {
    return this.#inflight;
  }

  async callTool(
    name: string,
    args: Record<string, unknown>,
    options: ForwardOptions,
  ): Promise<CallToolResult> {
    // The plain request, not callTool: the result goes to the client as it came (the client checks
    // it against the schema it was shown), so the gateway skips a second output-schema validation.
    return this.#forward(options.signal, (client) =>
      client.request(
        { method: "tools/call", params: { name, arguments: args } },
        this.#requestOptions(options),
      ),
    );
  }

  async readResource(uri: string, options: ForwardOptions): Promise<ReadResourceResult> {
    return this.#forward(options.signal, (client) =>
      client.readResource({ uri }, this.#requestOptions(options)),
    );
  }

  async getPrompt(
    name: string,
    args: Record<string, string>,
    options: ForwardOptions,
  ): Promise<GetPromptResult> {
    return this.#forward(options.signal, (client) =>
      client.getPrompt({ name, arguments: args }, this.#requestOptions(options)),
    );
  }

  #requestOptions(options: ForwardOptions) {
    return {
      signal: options.signal,
      timeout: this.spec.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.onprogress ? { onprogress: options.onprogress, resetTimeoutOnProgress: true } : {}),
    };
  }

  /** Runs one request on the live client; an upstream that is not up fails at once, naming itself. */
  async #forward<T>(signal: AbortSignal, request: (client: Client) => Promise<T>): Promise<T> {
    const client = this.#client;
    if (this.state !== "ready" || !client) throw this.unavailable();
    this.#inflight++;
    try {
      return withoutServerInfo(await request(client));
    } catch (err) {
      // A call the caller cancelled (or that ran out of time) says nothing about the upstream's health.
      if (signal.aborted) {
        throw new ToolshedError("timeout", `the call to upstream '${this.name}' was cancelled`);
      }
      throw this.#translate(err);
    } finally {
      this.#inflight--;
      if (this.#inflight === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  unavailable(): ToolshedError {
    return new ToolshedError(
      "upstream_unavailable",
      `upstream '${this.name}' is unavailable (${this.reason}); the gateway retries it in the background, try again shortly`,
      { retryable: true },
    );
  }

  /** An upstream failure as a tool error naming the upstream; a lost connection marks it down. */
  #translate(err: unknown): ToolshedError {
    if (err instanceof ToolshedError) return err;
    if (ProtocolError.isInstance(err)) {
      const e = err;
      // The upstream needs a client capability the gateway does not relay (yet): its -32021 goes to
      // the client as is, so the client learns what is missing.
      if (e.code === -32021) throw e;
      if (e.code === -32001) {
        return new ToolshedError("timeout", `upstream '${this.name}' did not answer in time`, {
          retryable: true,
        });
      }
      const code = e.code === -32602 ? "invalid_input" : "upstream_error";
      return new ToolshedError(code, `upstream '${this.name}' answered: ${stripPrefix(e.message)}`);
    }
    const message = err instanceof Error ? err.message : String(err);
    if (/timed out|timeout/i.test(message)) {
      return new ToolshedError("timeout", `upstream '${this.name}' did not answer in time`, {
        retryable: true,
      });
    }
    this.#lost(`request failed: ${firstLine(message)}`);
    return this.unavailable();
  }

  async #connect(): Promise<void> {
    if (this.#connecting || this.state === "closed") return this.#connecting;
    this.#connecting = (async () => {
      let client: Client | undefined;
      try {
        client = new Client(
          { name: "toolshed-gateway", version: "0.1.0" },
          { capabilities: {}, ...this.#negotiation() },
        );
        const transport = this.#transport();
        client.onclose = () => {
          if (this.#client === client) this.#lost("connection closed");
        };
        client.onerror = (error) => this.#log.debug({ err: scrub(error) }, "upstream transport error");
        client.setNotificationHandler("notifications/tools/list_changed", () => void this.refresh());
        await client.connect(transport, {
          timeout: this.spec.timeoutMs ?? 20_000,
          ...(this.#prior ? { prior: this.#prior } : {}),
        });
        if (this.state === "closed") {
          await client.close();
          return;
        }
        const discover = client.getDiscoverResult();
        this.#prior = discover ? { kind: "modern", discover } : { kind: "legacy" };
        this.#client = client;
        await this.#list(client);
        this.state = "ready";
        this.reason = "";
        this.#log.info(
          { era: client.getProtocolEra(), tools: this.tools.length, ...(this.pid ? { pid: this.pid } : {}) },
          `upstream '${this.name}' ready`,
        );
        this.#schedule(HEALTH_INTERVAL_MS, () => void this.refresh());
        this.#backoff = MIN_BACKOFF_MS;
      } catch (err) {
        if (this.#client === client) this.#client = undefined;
        await client?.close().catch(() => {});
        if (this.state !== "closed") {
          this.#down(firstLine(err instanceof Error ? err.message : String(err)));
        }
      } finally {
        this.#connecting = undefined;
        this.#settleFirst();
        this.#onChange();
      }
    })();
    return this.#connecting;
  }

  #negotiation(): Pick<ClientOptions, "versionNegotiation"> {
    const protocol = this.spec.protocol ?? "auto";
    if (protocol === "2025") return {};
    return { versionNegotiation: { mode: protocol === "auto" ? "auto" : { pin: protocol } } };
  }

  #transport(): Transport {
    const where = `upstream '${this.name}'`;
    if (this.spec.url !== undefined) {
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(this.spec.headers ?? {})) {
        headers[key] = readValue(value, this.#env, `${where} header ${key}`);
      }
      if (this.spec.bearer)
        headers.Authorization = `Bearer ${readSecret(this.spec.bearer, this.#env, `${where} bearer`)}`;
      return new StreamableHTTPClientTransport(new URL(this.spec.url), { requestInit: { headers } });
    }
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.spec.env ?? {})) {
      env[key] = readValue(value, this.#env, `${where} env ${key}`);
    }
    const transport = new StdioClientTransport({
      command: this.spec.command!,
      args: this.spec.args ?? [],
      env: { ...inherited(this.#env), ...env },
      ...(this.spec.cwd ? { cwd: this.spec.cwd } : {}),
      stderr: "pipe",
    });
    // The child's log goes to the gateway's log at debug, one line per entry, tagged with the upstream.
    transport.stderr?.on("data", (chunk: Buffer) => {
      if (!this.#log.isLevelEnabled("debug")) return;
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean))
        this.#log.debug({ stderr: line.slice(0, 2000) }, "upstream stderr");
    });
    return transport;
  }

  async #list(client: Client): Promise<void> {
    const caps = client.getServerCapabilities() ?? {};
    const [tools, resources, templates, prompts] = await Promise.all([
      caps.tools ? client.listTools() : { tools: [] },
      caps.resources ? client.listResources() : { resources: [] },
      caps.resources ? client.listResourceTemplates() : { resourceTemplates: [] },
      caps.prompts ? client.listPrompts() : { prompts: [] },
    ]);
    this.tools = tools.tools;
    this.resources = resources.resources;
    this.templates = templates.resourceTemplates;
    this.prompts = prompts.prompts;
    this.version++;
  }

  /** Re-lists the upstream (health check and list refresh); a failure marks it down. */
  async refresh(): Promise<void> {
    const client = this.#client;
    if (!client || this.state !== "ready") return;
    try {
      await this.#list(client);
      this.#onChange();
      this.#schedule(HEALTH_INTERVAL_MS, () => void this.refresh());
    } catch (err) {
      if (ProtocolError.isInstance(err)) {
        this.#schedule(HEALTH_INTERVAL_MS, () => void this.refresh());
        return;
      }
      this.#lost(`health check failed: ${firstLine((err as Error).message)}`);
    }
  }

  /** The connection is gone: mark down and reconnect (restart the child) with backoff. */
  #lost(reason: string): void {
    if (this.state === "closed" || this.state === "down") return;
    const client = this.#client;
    this.#client = undefined;
    void client?.close().catch(() => {});
    if (this.spec.command !== undefined) this.restarts++;
    this.#down(reason);
    this.#onChange();
  }

  #down(reason: string): void {
    this.state = "down";
    this.reason = reason;
    const delay = this.#backoff;
    this.#backoff = Math.min(MAX_BACKOFF_MS, this.#backoff * 2);
    this.#log.warn({ reason, retry_in_ms: delay }, `upstream '${this.name}' is down`);
    this.#schedule(delay, () => void this.#connect());
  }

  #schedule(ms: number, fn: () => void): void {
    clearTimeout(this.#timer);
    if (this.state === "closed") return;
    this.#timer = setTimeout(fn, ms);
    this.#timer.unref();
  }

  /** Stops reconnecting; waits up to `drainMs` for calls in flight, then closes the connection. */
  async close(drainMs = 30_000): Promise<void> {
    this.state = "closed";
    this.reason = "removed from the gateway config";
    clearTimeout(this.#timer);
    this.#settleFirst();
    if (this.#inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idle.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs))),
      ]);
      clearTimeout(timer);
    }
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => {});
  }
}

/** What a spawned upstream inherits: PATH and the basics, never the gateway's own secrets. */
function inherited(env: NodeJS.ProcessEnv): Record<string, string> {
  const keep = [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "TMPDIR",
    "LANG",
    "SYSTEMROOT",
    "NODE_OPTIONS",
  ];
  const out: Record<string, string> = {};
  for (const key of keep) {
    const value = env[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").slice(0, 300);
}

function stripPrefix(message: string): string {
  return message.replace(/^MCP error -?\d+:\s*/, "");
}

function scrub(error: Error): { message: string; name: string } {
  return { name: error.name, message: firstLine(error.message) };
}

/** The result's `_meta` without the upstream's serverInfo: the gateway answers as itself. */
function withoutServerInfo<T>(result: T): T {
  const meta = (result as { _meta?: Record<string, unknown> } | undefined)?._meta;
  if (!meta || !(SERVER_INFO in meta)) return result;
  const { [SERVER_INFO]: _upstream, ...rest } = meta;
  return { ...result, _meta: rest };
}

const SERVER_INFO = "io.modelcontextprotocol/serverInfo";
