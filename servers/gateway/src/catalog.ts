import { missingScopes } from "@toolshed/auth";
import type { Prompt, Resource, ResourceTemplate, Tool } from "@toolshed/client";
import type { Principal } from "@toolshed/server";
import type { GatewayFile } from "./config.js";
import type { Upstream } from "./upstream.js";

/**
 * Names the gateway shows: `<namespace>__<name>` for tools and prompts (valid under every client's
 * tool-name rules, [A-Za-z0-9_-], and reversible: a namespace never holds '_'), and
 * `<namespace>+<uri>` for resource URIs (a valid URI scheme, reversible at the first '+').
 */
export const SEPARATOR = "__";

export function exposedName(namespace: string, name: string): string {
  return namespace ? `${namespace}${SEPARATOR}${name}` : name;
}

export function splitName(exposed: string): { namespace: string; name: string } | undefined {
  const at = exposed.indexOf(SEPARATOR);
  if (at <= 0) return undefined;
  return { namespace: exposed.slice(0, at), name: exposed.slice(at + SEPARATOR.length) };
}

export function exposedUri(namespace: string, uri: string): string {
  return namespace ? `${namespace}+${uri}` : uri;
}

export function splitUri(exposed: string): { namespace: string; uri: string } | undefined {
  const at = exposed.indexOf("+");
  if (at <= 0) return undefined;
  return { namespace: exposed.slice(0, at), uri: exposed.slice(at + 1) };
}

export interface CatalogTool {
  /** What the client sees and calls. */
  exposed: string;
  upstream: Upstream;
  /** The upstream's own name for it. */
  original: string;
  /** The tools/list entry shown to clients (the upstream's, renamed). */
  entry: Tool;
  /** Scopes a caller needs for it when auth is on: its upstream's, then its own from the config. */
  scopes: readonly string[];
}

/**
 * What one caller may see: every tool, none, or the tools a virtual server's patterns match; and,
 * when auth is on, the scopes it holds, which the upstreams' and tools' `scopes` are checked against.
 * Without auth (`scopes` undefined) nothing is checked, as for the kit's own tools.
 */
export type Access = (
  { kind: "all" } | { kind: "none" } | { kind: "some"; name: string; patterns: RegExp[] }
) & {
  scopes?: readonly string[];
};

export function accessFor(file: GatewayFile, principal: Principal | undefined): Access {
  const held = principal ? { scopes: principal.scopes } : {};
  const chosen = (principal && file.principals[principal.id]) ?? file.defaultAccess;
  if (chosen === "all") return { kind: "all", ...held };
  if (chosen === "none") return { kind: "none", ...held };
  const server = file.virtualServers[chosen];
  if (!server) return { kind: "none", ...held };
  return { kind: "some", name: chosen, patterns: server.tools.map(globToRegExp), ...held };
}

/** The required scopes the caller lacks, in order; none without auth. */
export function missingFor(access: Access, required: readonly string[]): string[] {
  if (!access.scopes || !required.length) return [];
  return missingScopes({ id: "", scopes: [...access.scopes] }, required);
}

/** The scopes a tool needs: its upstream's `scopes`, then the tool's own (by its upstream name). */
export function toolScopes(
  file: Pick<GatewayFile, "upstreams"> | undefined,
  upstream: string,
  tool: string,
): string[] {
  const spec = file?.upstreams[upstream];
  return [...new Set([...(spec?.scopes ?? []), ...(spec?.tools?.[tool]?.scopes ?? [])])];
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

/** Whether the caller's virtual server includes the tool (scopes aside). */
export function allows(access: Access, exposed: string): boolean {
  if (access.kind === "all") return true;
  if (access.kind === "none") return false;
  return access.patterns.some((p) => p.test(exposed));
}

/** Whether the caller sees and may call the tool: its virtual server includes it and it holds its scopes. */
export function canUse(access: Access, tool: CatalogTool): boolean {
  return allows(access, tool.exposed) && missingFor(access, tool.scopes).length === 0;
}

/**
 * The merged, namespaced view of every ready upstream. Rebuilt when an upstream's lists or the
 * config change; filtered per caller by its access. `file` brings the scopes (none without it).
 */
export class Catalog {
  readonly tools: ReadonlyMap<string, CatalogTool>;
  readonly byNamespace: ReadonlyMap<string, Upstream>;
  readonly #file: Pick<GatewayFile, "upstreams"> | undefined;

  constructor(upstreams: Iterable<Upstream>, file?: Pick<GatewayFile, "upstreams">) {
    this.#file = file;
    const tools = new Map<string, CatalogTool>();
    const byNamespace = new Map<string, Upstream>();
    const prompts = new Map<string, { upstream: Upstream; original: string }>();
    // The root upstream first, so that a namespaced name always wins a collision with one of its own.
    const ordered = [...upstreams].sort((a, b) => (a.namespace === "" ? -1 : b.namespace === "" ? 1 : 0));
    for (const upstream of ordered) {
      byNamespace.set(upstream.namespace, upstream);
      for (const prompt of upstream.prompts) {
        prompts.set(exposedName(upstream.namespace, prompt.name), { upstream, original: prompt.name });
      }
      for (const tool of upstream.tools) {
        const exposed = exposedName(upstream.namespace, tool.name);
        tools.set(exposed, {
          exposed,
          upstream,
          original: tool.name,
          entry: { ...tool, name: exposed },
          scopes: toolScopes(file, upstream.name, tool.name),
        });
      }
    }
    // Deterministic order: by exposed name, whatever order the upstreams answered in.
    this.tools = new Map([...tools.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    this.byNamespace = byNamespace;
    this.#prompts = prompts;
  }

  readonly #prompts: ReadonlyMap<string, { upstream: Upstream; original: string }>;

  /** The upstream and own name of an exposed prompt name. */
  prompt(exposed: string): { upstream: Upstream; original: string } | undefined {
    return this.#prompts.get(exposed);
  }

  /** The upstream and own URI of an exposed resource URI: `<namespace>+…`, else the root upstream's. */
  resource(exposed: string): { upstream: Upstream; uri: string } | undefined {
    const split = splitUri(exposed);
    const named = split && split.namespace !== "" ? this.byNamespace.get(split.namespace) : undefined;
    if (named && split) return { upstream: named, uri: split.uri };
    const root = this.byNamespace.get("");
    return root ? { upstream: root, uri: exposed } : undefined;
  }

  /** The scopes a tool of `upstream` needs, by its own name (for one not listed yet, too). */
  toolScopes(upstream: Upstream, original: string): string[] {
    return toolScopes(this.#file, upstream.name, original);
  }

  /** The scopes anything of `upstream` needs: its resources, prompts and each of its tools. */
  upstreamScopes(upstream: Upstream): readonly string[] {
    return this.#file?.upstreams[upstream.name]?.scopes ?? [];
  }

  visibleTools(access: Access): CatalogTool[] {
    return [...this.tools.values()].filter((t) => canUse(access, t));
  }

  /**
   * Upstreams whose prompts and resources the caller's virtual server includes, scopes aside: those
   * it includes a tool of (every one, for `all`).
   */
  reachableUpstreams(access: Access): Upstream[] {
    if (access.kind === "all") return [...this.byNamespace.values()];
    const seen = new Set<Upstream>();
    for (const t of this.tools.values()) if (allows(access, t.exposed)) seen.add(t.upstream);
    return [...seen];
  }

  /**
   * Upstreams whose prompts and resources a caller sees: those reachable (above) whose `scopes` it
   * holds. A tool's own scopes do not hide them: they guard that tool only.
   */
  visibleUpstreams(access: Access): Upstream[] {
    return this.reachableUpstreams(access).filter(
      (u) => missingFor(access, this.upstreamScopes(u)).length === 0,
    );
  }

  prompts(access: Access): Prompt[] {
    return this.visibleUpstreams(access).flatMap((u) =>
      u.prompts.map((p) => ({ ...p, name: exposedName(u.namespace, p.name) })),
    );
  }

  resources(access: Access): Resource[] {
    return this.visibleUpstreams(access).flatMap((u) =>
      u.resources.map((r) => ({ ...r, uri: exposedUri(u.namespace, r.uri) })),
    );
  }

  templates(access: Access): ResourceTemplate[] {
    return this.visibleUpstreams(access).flatMap((u) =>
      u.templates.map((t) => ({ ...t, uriTemplate: exposedUri(u.namespace, t.uriTemplate) })),
    );
  }
}
