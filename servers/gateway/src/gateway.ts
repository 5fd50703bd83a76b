import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Logger } from "@toolshed/logging";
import type { Principal } from "@toolshed/server";
import { accessFor, Catalog, exposedUri, SEPARATOR } from "./catalog.js";
import { loadGatewayFile, type GatewayFile } from "./config.js";
import { ToolSearch } from "./search.js";
import type { SharedStore } from "./shared.js";
import { Upstream } from "./upstream.js";

export interface GatewayOptions {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** How long a removed or changed upstream may finish its calls in flight; 30 s. */
  drainMs?: number;
  /**
   * Called when the merged tool list changes (a reload added or removed an upstream, an upstream's
   * tools changed); not when an upstream merely goes down, since its tools stay listed.
   */
  onToolsChanged?: () => void;
  /** Called when the resources or templates the gateway lists change (as `onToolsChanged`). */
  onResourcesChanged?: () => void;
  /** Called when the prompts the gateway lists change (as `onToolsChanged`). */
  onPromptsChanged?: () => void;
  /** Called with the exposed URI when an upstream reports a followed resource updated. */
  onResourceUpdated?: (uri: string) => void;
  /** The replicas' Redis: upstreams keep cached answers and rate limits there (see shared.ts). */
  shared?: { store: SharedStore; redisUrl: string };
  /**
   * How long `start` waits for the upstreams' first connection attempts; one still connecting
   * then joins when it is up (`onToolsChanged`). Default: wait for all of them.
   */
  startWaitMs?: number;
}

/**
 * The gateway's state: the config file, one Upstream per entry and the merged catalogue. A reload
 * (file change or SIGHUP) keeps unchanged upstreams, starts new ones and lets removed or changed ones
 * finish their calls in flight before closing them.
 */
export class Gateway {
  file: GatewayFile;
  readonly upstreams = new Map<string, Upstream>();
  readonly #options: GatewayOptions;
  readonly #path: string | undefined;
  #catalog: Catalog | undefined;
  #search: ToolSearch | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #onHup: (() => void) | undefined;
  /** Completed reloads, for tests and logs. */
  reloads = 0;

  private constructor(file: GatewayFile, path: string | undefined, options: GatewayOptions) {
    this.file = file;
    this.#path = path;
    this.#options = options;
  }

  /**
   * Loads the config file (or uses `file`), starts every upstream and waits for their first
   * attempts, up to `startWaitMs`.
   */
  static async start(
    source: { path: string } | { file: GatewayFile },
    options: GatewayOptions,
  ): Promise<Gateway> {
    const path = "path" in source ? resolve(source.path) : undefined;
    const file = "path" in source ? loadGatewayFile(source.path) : source.file;
    const gateway = new Gateway(file, path, options);
    gateway.#apply(file);
    if (gateway.upstreams.size === 0) {
      options.logger.warn(
        path ? { config: path } : {},
        path
          ? "the gateway config lists no upstreams: it serves nothing until one is added (the file is reloaded on save or SIGHUP)"
          : "no gateway config given: the gateway serves nothing; start it with --config gateway.yaml (or TOOLSHED_GATEWAY_CONFIG) listing upstreams",
      );
    }
    const firstTries = Promise.all([...gateway.upstreams.values()].map((u) => u.start()));
    const waitMs = options.startWaitMs;
    if (waitMs === undefined) {
      await firstTries;
      return gateway;
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      firstTries.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs))),
    ]);
    clearTimeout(timer);
    const slow = [...gateway.upstreams.values()].filter((u) => u.state === "starting").map((u) => u.name);
    if (!waited && slow.length) {
      options.logger.warn(
        { upstreams: slow, waitedMs: waitMs },
        `serving without upstream${slow.length > 1 ? "s" : ""} ${slow.map((n) => `'${n}'`).join(", ")}, still connecting after ${waitMs} ms: ${slow.length > 1 ? "their" : "its"} tools join when ${slow.length > 1 ? "they are" : "it is"} up (clients are sent tools/list_changed); raise --start-wait-ms to wait longer`,
      );
    }
    return gateway;
  }

  /** Whether it runs on a config file (and so can reload), or was started without one. */
  get hasConfigFile(): boolean {
    return this.#path !== undefined;
  }

  get catalog(): Catalog {
    return (this.#catalog ??= new Catalog(this.upstreams.values(), this.file));
  }

  get search(): ToolSearch {
    return (this.#search ??= new ToolSearch(this.catalog));
  }

  /** The lists clients saw last, to tell a real change from a refresh that found the same. */
  readonly #seen = new Map<string, string>();

  #changed = () => {
    this.#catalog = undefined;
    this.#search = undefined;
    this.#warnUnknownTools();
    const { onToolsChanged, onResourcesChanged, onPromptsChanged } = this.#options;
    // Scopes count: a reload that changes only who may use a tool changes what callers are shown.
    if (onToolsChanged) {
      this.#compare(
        "tools",
        [...this.catalog.tools.values()].map((t) => [t.entry, t.scopes]),
        onToolsChanged,
      );
    }
    const upstreams = [...this.upstreams.values()];
    if (onResourcesChanged) {
      const lists = upstreams.map((u) => [u.namespace, u.resources, u.templates]);
      this.#compare("resources", lists, onResourcesChanged);
    }
    if (onPromptsChanged) {
      this.#compare(
        "prompts",
        upstreams.map((u) => [u.namespace, u.prompts]),
        onPromptsChanged,
      );
    }
  };

  /** Calls `changed` when `lists` differ from what was seen last under `key` (not the first time). */
  #compare(key: string, lists: unknown, changed: () => void): void {
    const seen = JSON.stringify(lists);
    const before = this.#seen.get(key);
    this.#seen.set(key, seen);
    if (before !== undefined && before !== seen) changed();
  }

  /** Followed resources: upstream name -> its own URI -> how many clients follow it. */
  readonly #follows = new Map<string, Map<string, number>>();

  /**
   * Follows `upstream`'s resource `uri` (its own URI) for one client; the upstream is subscribed
   * while at least one client follows it, and across reconnects and reloads. Returns what ends this
   * client's follow (once; later calls do nothing).
   */
  follow(upstream: Upstream, uri: string): () => void {
    const name = upstream.name;
    const counts = this.#follows.get(name) ?? new Map<string, number>();
    this.#follows.set(name, counts);
    const count = counts.get(uri) ?? 0;
    counts.set(uri, count + 1);
    if (count === 0) this.upstreams.get(name)?.follow(uri);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (counts.get(uri) ?? 1) - 1;
      if (left > 0) {
        counts.set(uri, left);
        return;
      }
      counts.delete(uri);
      if (!counts.size && this.#follows.get(name) === counts) this.#follows.delete(name);
      this.upstreams.get(name)?.unfollow(uri);
    };
  }

  /** The gateway's logger. */
  get logger(): Logger {
    return this.#options.logger;
  }

  /** Callers' live follows (resources, tasks): which upstream, whether its caller still may, what ends it. */
  readonly #grants = new Set<Grant>();

  /**
   * Registers a caller's live follow of upstream `name` (a resource subscription, a task's status
   * notifications): after each reload, one whose upstream is gone or whose caller `still()` may not
   * reach it is revoked, once. When a reload replaces the upstream (a new URL, command, header or
   * credential: a new connection under the same name) and the caller still may reach it, `moved`
   * is called with the new one and its first connection attempt, to follow there. Returns what
   * unregisters it (when the caller stops following).
   */
  watchAccess(name: string, still: () => boolean, revoke: () => void, moved?: Moved): () => void {
    const grant: Grant = { upstream: name, still, revoke, ...(moved ? { moved } : {}) };
    this.#grants.add(grant);
    return () => void this.#grants.delete(grant);
  }

  /** Whether `principal` sees upstream `name` now: its virtual server reaches it, and it holds its scopes. */
  serves(name: string, principal: Principal | undefined): boolean {
    const upstream = this.upstreams.get(name);
    return (
      upstream !== undefined &&
      this.catalog.visibleUpstreams(accessFor(this.file, principal)).includes(upstream)
    );
  }

  /** Ends the follows a reload took away: their upstream removed, or their caller's access to it. */
  #revokeLost(): void {
    for (const grant of [...this.#grants]) {
      if (this.upstreams.has(grant.upstream) && grant.still()) continue;
      this.#grants.delete(grant);
      try {
        grant.revoke();
      } catch (err) {
        this.#options.logger.warn({ err, upstream: grant.upstream }, "ending a revoked follow failed");
      }
    }
  }

  /** `upstream\ntool` of the `tools:` entries already warned about under the current config. */
  readonly #warned = new Set<string>();

  /**
   * Warns, once per config, of a `tools:` entry naming a tool its upstream does not list. Not an
   * error: upstreams add and drop tools under the gateway, and the scopes apply once it appears.
   */
  #warnUnknownTools(): void {
    for (const upstream of this.upstreams.values()) {
      const configured = this.file.upstreams[upstream.name]?.tools;
      if (!configured || upstream.state !== "ready") continue;
      const listed = new Set(upstream.tools.map((t) => t.name));
      for (const tool of Object.keys(configured)) {
        const key = `${upstream.name}\n${tool}`;
        if (listed.has(tool) || this.#warned.has(key)) continue;
        this.#warned.add(key);
        // The likely slip: the exposed name (`github__create_issue`) for the upstream's own.
        const prefix = upstream.namespace ? `${upstream.namespace}${SEPARATOR}` : "";
        const own = prefix && tool.startsWith(prefix) ? tool.slice(prefix.length) : undefined;
        const hint =
          own !== undefined && listed.has(own)
            ? `; write the upstream's own name '${own}', without the '${prefix}' prefix`
            : "; its scopes apply if the upstream adds it (check the spelling against its tools/list)";
        const where = this.#path ? `gateway config ${this.#path}` : "gateway config";
        this.#options.logger.warn(
          { ...(this.#path ? { config: this.#path } : {}), upstream: upstream.name, tool },
          `${where}: upstreams.${upstream.name}.tools.${tool} names a tool upstream '${upstream.name}' does not list${hint}`,
        );
      }
    }
  }

  /** Starts, keeps or retires upstreams so that they match `file`. */
  #apply(file: GatewayFile): Upstream[] {
    const retired: Upstream[] = [];
    const started: Upstream[] = [];
    /** Names whose upstream this reload replaced with a new connection. */
    const replaced = new Set<string>();
    for (const [name, spec] of Object.entries(file.upstreams)) {
      const current = this.upstreams.get(name);
      const next: Upstream = new Upstream(name, spec, {
        logger: this.#options.logger,
        ...(this.#options.env ? { env: this.#options.env } : {}),
        onChange: this.#changed,
        onResourceUpdated: (uri) => this.#options.onResourceUpdated?.(exposedUri(next.namespace, uri)),
        ...(this.#options.shared ? { shared: this.#options.shared } : {}),
      });
      if (current && current.fingerprint === next.fingerprint) continue;
      // What clients follow of the upstream it replaces, it follows too.
      for (const uri of this.#follows.get(name)?.keys() ?? []) next.follow(uri);
      if (current) {
        retired.push(current);
        replaced.add(name);
      }
      this.upstreams.set(name, next);
      started.push(next);
    }
    for (const [name, upstream] of this.upstreams) {
      if (!(name in file.upstreams)) {
        retired.push(upstream);
        this.upstreams.delete(name);
      }
    }
    this.file = file;
    this.#warned.clear();
    this.#changed();
    this.#revokeLost();
    const firstTries = new Map(started.map((upstream) => [upstream, upstream.start()] as const));
    // The follows that stay go to the replacing connection (the retired one closes under them).
    for (const grant of [...this.#grants]) {
      const next = replaced.has(grant.upstream) ? this.upstreams.get(grant.upstream) : undefined;
      if (!next || !grant.moved) continue;
      try {
        grant.moved(next, firstTries.get(next)!);
      } catch (err) {
        this.#options.logger.warn(
          { err, upstream: grant.upstream },
          "moving a follow to the new upstream failed",
        );
      }
    }
    // Calls in flight hold their Upstream object: they finish on it while new calls go to the new one.
    for (const upstream of retired) void upstream.close(this.#options.drainMs ?? 30_000).then(this.#changed);
    return started;
  }

  /** Re-reads the config file; a file that does not validate is logged and the running config kept. */
  async reload(): Promise<boolean> {
    if (!this.#path) return false;
    let file: GatewayFile;
    try {
      file = loadGatewayFile(this.#path);
    } catch (err) {
      this.#options.logger.error(
        { err: { message: (err as Error).message } },
        "gateway config reload refused; keeping the running config",
      );
      return false;
    }
    const started = this.#apply(file);
    this.reloads++;
    this.#options.logger.info(
      { upstreams: [...this.upstreams.keys()], started: started.map((u) => u.name) },
      "gateway config reloaded",
    );
    await Promise.all(started.map((u) => u.start()));
    return true;
  }

  /** Reloads when the file changes (watching its directory, as editors replace files) or on SIGHUP. */
  watch(): void {
    if (!this.#path || this.#watcher) return;
    const name = basename(this.#path);
    try {
      this.#watcher = watch(dirname(this.#path), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => void this.reload(), 200);
      });
      this.#watcher.unref();
    } catch (err) {
      this.#options.logger.warn(
        { err: { message: (err as Error).message } },
        "cannot watch the gateway config; reload with SIGHUP",
      );
    }
    this.#onHup = () => void this.reload();
    process.on("SIGHUP", this.#onHup);
  }

  /** Upstreams that are not up, by name. */
  down(): string[] {
    return [...this.upstreams.values()].filter((u) => u.state !== "ready").map((u) => u.name);
  }

  /**
   * `true` when every upstream is up; else why not, for the unauthenticated /readyz (names only, no
   * addresses or paths). No upstreams at all is not ready: a load balancer should not send callers
   * to a gateway that can serve them nothing, and the reason says how to add one.
   */
  readiness(): true | string {
    if (this.upstreams.size === 0) {
      return this.#path
        ? "no upstreams configured: add one under 'upstreams:' in the gateway config file; it is reloaded on save or SIGHUP"
        : "no upstreams configured: no config file was given; restart with --config gateway.yaml (or TOOLSHED_GATEWAY_CONFIG) listing upstreams";
    }
    const down = this.down();
    return down.length ? `upstreams not ready: ${down.join(", ")}` : true;
  }

  async close(): Promise<void> {
    this.#watcher?.close();
    clearTimeout(this.#debounce);
    if (this.#onHup) process.off("SIGHUP", this.#onHup);
    await Promise.all([...this.upstreams.values()].map((u) => u.close(this.#options.drainMs ?? 30_000)));
  }
}

/** What follows a caller's follow to the upstream a reload put in place of its own. */
type Moved = (next: Upstream, firstTry: Promise<void>) => void;

interface Grant {
  upstream: string;
  still: () => boolean;
  revoke: () => void;
  moved?: Moved;
}
