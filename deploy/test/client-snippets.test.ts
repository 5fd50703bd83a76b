// The client configuration a README tells a user to paste: every JSON block parses, and what it
// gives Claude Desktop is a stdio server (`command`, `args`, `env`): its claude_desktop_config.json
// does not take `{ "type": "http", "url" }`; a remote server goes through the mcp-remote bridge.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readJson, root, servers } from "./workspace.js";

const TEMPLATE = "turbo/generators/templates/server/README.md.hbs";
// docs/clients.md is the client guide every server's README points to.
const docs = ["docs/clients.md", ...servers().map((s) => `${s.dir}/README.md`), TEMPLATE];

interface Snippet {
  json: string;
  /** The prose that introduces it: the paragraph before a block, the clause around an inline one. */
  context: string;
}
type Entry = { command?: unknown; args?: unknown; env?: unknown; url?: unknown; type?: unknown };

function read(path: string): string {
  const text = readFileSync(join(root, path), "utf8");
  // The template's one placeholder, as `pnpm gen server` fills it.
  return path === TEMPLATE ? text.replaceAll("{{name}}", "weather") : text;
}

function snippets(text: string): { blocks: Snippet[]; inline: Snippet[] } {
  const blocks: Snippet[] = [];
  for (const m of text.matchAll(/```json\n([\s\S]*?)```/g)) {
    const before = text.slice(0, m.index).trimEnd();
    blocks.push({ json: m[1]!, context: before.slice(before.lastIndexOf("\n\n") + 2) });
  }
  const inline: Snippet[] = [];
  const prose = text.replace(/```[\s\S]*?```/g, "");
  for (const m of prose.matchAll(/`(\{[^`]*"mcpServers"[^`]*\})`/g)) {
    const start = Math.max(
      prose.lastIndexOf(";", m.index),
      prose.lastIndexOf(". ", m.index),
      prose.lastIndexOf("\n\n", m.index),
    );
    const ends = [
      prose.indexOf(";", m.index + m[0].length),
      prose.indexOf(". ", m.index + m[0].length),
    ].filter((i) => i >= 0);
    inline.push({ json: m[1]!, context: prose.slice(start + 1, Math.min(...ends, prose.length)) });
  }
  return { blocks, inline };
}

const packageNames = new Set([...servers().map((s) => s.pkg.name), "@toolshed/server-weather"]);
/** Every server's image repository, as its server.json lists it (the oci package, less its tag). */
const images = new Set(
  servers().flatMap((s) =>
    readJson<{ packages: { registryType: string; identifier: string }[] }>(`${s.dir}/server.json`)
      .packages.filter((p) => p.registryType === "oci")
      .map((p) => p.identifier.replace(/:[^:/]+$/, "")),
  ),
);

/** What is wrong with one mcpServers entry, or undefined. */
function problem(entry: Entry, forClaudeDesktop: boolean): string | undefined {
  if (forClaudeDesktop && (entry.url !== undefined || entry.type !== undefined)) {
    return "Claude Desktop takes stdio servers only (command/args/env); bridge a remote one with mcp-remote";
  }
  if (entry.url !== undefined) {
    return typeof entry.url === "string" && /^https?:\/\/[^ ]+\/mcp$/.test(entry.url) ? undefined : "bad url";
  }
  if (typeof entry.command !== "string") return "no command";
  const args = entry.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) return "args must be strings";
  if (entry.env !== undefined && !Object.values(entry.env as object).every((v) => typeof v === "string")) {
    return "env values must be strings";
  }
  if (entry.command === "docker") {
    // stdin open (-i) and gone when the client stops it; the image's own command serves HTTP.
    if (args[0] !== "run" || !args.includes("-i") || !args.includes("--rm"))
      return "docker needs run -i --rm";
    // A released version's tag (a snippet may name an older release than the one in server.json).
    const image = args.find((a) => /^[\w.-]+\.[a-z]+\/.+:\d+\.\d+\.\d+$/.test(a));
    if (!image || !images.has(image.replace(/:[^:/]+$/, ""))) {
      return `docker runs ${image}, which is no Toolshed server's image at a version`;
    }
    if (args.slice(args.indexOf(image) + 1).join(" ") !== "--transport stdio") {
      return "the image needs --transport stdio after it (its default command serves HTTP)";
    }
  }
  if (entry.command === "npx") {
    if (args[0] !== "-y") return "npx needs -y (no prompt on a first run)";
    if (args[1] === "mcp-remote")
      return /^https?:\/\/[^ ]+\/mcp$/.test(args[2] ?? "") ? undefined : "mcp-remote needs the /mcp URL";
    if (!packageNames.has(args[1]!)) return `npx runs ${args[1]}, which is no Toolshed server`;
  }
  return undefined;
}

function entries(json: string): Entry[] {
  const parsed = JSON.parse(json) as { mcpServers?: Record<string, Entry> };
  return Object.values(parsed.mcpServers ?? {});
}

describe.each(docs.map((d) => [d] as const))("client snippets in %s", (doc) => {
  const { blocks, inline } = snippets(read(doc));

  it("has JSON blocks that parse", () => {
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(() => void JSON.parse(b.json), `${b.context}\n${b.json}`).not.toThrow();
  });

  it("gives Claude Desktop only stdio servers, and every client a runnable entry", () => {
    const found: string[] = [];
    for (const s of [...blocks, ...inline]) {
      const forClaudeDesktop = /Claude Desktop/.test(s.context);
      for (const e of entries(s.json)) {
        const p = problem(e, forClaudeDesktop);
        if (p) found.push(`${p}: ${s.json.replace(/\s+/g, " ")} (after "${s.context.slice(-120)}")`);
      }
    }
    expect(found).toEqual([]);
  });
});

describe.each(servers().map((s) => [s.name, s.pkg.name] as const))("servers/%s/README.md", (name, pkg) => {
  it("shows Claude Desktop its own package over stdio", () => {
    const { blocks } = snippets(read(`servers/${name}/README.md`));
    const desktop = blocks.filter((b) => /Claude Desktop/.test(b.context)).flatMap((b) => entries(b.json));
    expect(desktop.some((e) => Array.isArray(e.args) && e.args.includes(pkg))).toBe(true);
  });
});
