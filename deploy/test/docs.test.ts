// The documentation a newcomer reads: the root README stays a front door, every workspace package has
// a README and is reachable from it, every relative link resolves inside the repository (anchors
// included), the quick start is what CI runs, and the kit guide documents every variable the kit reads.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { root, workspacePackages } from "./workspace.js";

const ROOT_README_MAX_BYTES = 10 * 1024;
const TEMPLATE = "turbo/generators/templates/server/README.md.hbs";
const KIT_GUIDE = "packages/server/README.md";
const FIXTURE_BIN = "packages/testing/fixtures/everything/dist/bin.js";

const read = (path: string): string => readFileSync(join(root, path), "utf8");

const SKIP_DIRS = new Set([
  "node_modules",
  "dist",
  ".git",
  ".turbo",
  ".test-results",
  "results",
  "__snapshots__",
]);

/** Every Markdown file of the repository (not dependencies, build output or changelogs). */
function markdownFiles(dir = ""): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) => {
    const path = dir ? `${dir}/${d.name}` : d.name;
    if (d.isDirectory()) return SKIP_DIRS.has(d.name) ? [] : markdownFiles(path);
    return d.name.endsWith(".md") && d.name !== "CHANGELOG.md" ? [path] : [];
  });
}

/** Text outside fenced code blocks and inline code, where a `[text](target)` is a link. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

function links(text: string): string[] {
  return [...prose(text).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

/** GitHub's heading anchors: lowercase, punctuation dropped, each space a hyphen, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const m of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** What is wrong with one link of `file` (read as if it were at `at`), or undefined. */
function brokenLink(file: string, at: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: — not ours to check
  const [path = "", anchor] = target.split("#", 2) as [string, string | undefined];
  const resolved = path === "" ? join(root, at) : resolve(root, dirname(at), decodeURI(path));
  const inside = relative(root, resolved);
  if (inside.startsWith(`..${sep}`) || inside === "..") return `${target} points outside the repository`;
  if (!existsSync(resolved)) return `${target} does not exist`;
  if (anchor === undefined || anchor === "") return undefined;
  const isFile = statSync(resolved).isFile();
  const markdown = isFile && resolved.endsWith(".md") ? readFileSync(resolved, "utf8") : undefined;
  if (path === "" && file === TEMPLATE) return undefined; // its own headings carry {{placeholders}}
  if (markdown === undefined) return undefined; // an anchor into code is GitHub's line syntax
  return anchors(markdown).has(anchor) ? undefined : `${target}: no heading with that anchor`;
}

describe("the root README", () => {
  const readme = read("README.md");

  it("is a front door of at most 10 KB", () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(ROOT_README_MAX_BYTES);
  });

  it("gives the quick-start test command exactly as .ci/run runs it", () => {
    const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, "a sh block under '## Quick start'").toBeDefined();
    const commands = block!
      .split("\n")
      .map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter(Boolean);
    const ci = read(".ci/run")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const ciTestLine = ci.at(-1)!;
    expect(ciTestLine).toMatch(/ test$/);
    expect(commands).toContain(ciTestLine);
    // The other quick-start line differs only in the script it runs.
    for (const c of commands) expect(c.replace(/ \S+$/, "")).toBe(ciTestLine.replace(/ \S+$/, ""));
  });

  it("links the README of every package and server", () => {
    const linked = new Set(links(readme).map((l) => l.split("#")[0]));
    const missing = workspacePackages()
      .filter((dir) => /^(packages|servers)\/[^/]+$/.test(dir))
      .filter((dir) => !linked.has(`${dir}/README.md`));
    expect(missing).toEqual([]);
  });
});

it("has a README in every workspace package", () => {
  const dirs = workspacePackages();
  expect(dirs.length).toBeGreaterThan(10);
  expect(dirs.filter((dir) => !existsSync(join(root, dir, "README.md")))).toEqual([]);
});

it("gives an example in every workspace package's README (a code block)", () => {
  const withoutExample = workspacePackages().filter(
    (dir) => !/^(```|~~~)\S*\n[\s\S]*?\S[\s\S]*?^\1\s*$/m.test(read(`${dir}/README.md`)),
  );
  expect(withoutExample).toEqual([]);
});

describe("relative links", () => {
  const files = markdownFiles();

  it("finds the repository's Markdown", () => {
    expect(files).toEqual(expect.arrayContaining(["README.md", KIT_GUIDE, "docs/clients.md"]));
  });

  it.each(files)("resolve in %s", (file) => {
    const broken = links(read(file))
      .map((l) => brokenLink(file, file, l))
      .filter(Boolean);
    expect(broken).toEqual([]);
  });

  it("resolve in the server template's README, as generated into servers/<name>", () => {
    const at = "servers/weather/README.md";
    const broken = links(read(TEMPLATE))
      .map((l) => brokenLink(TEMPLATE, at, l))
      .filter(Boolean);
    expect(broken).toEqual([]);
  });

  it("are checked, not waved through", () => {
    expect(brokenLink("README.md", "README.md", "docs/no-such-file.md")).toMatch(/does not exist/);
    expect(brokenLink("README.md", "README.md", "../shared/DESIGN.md")).toMatch(/outside the repository/);
    expect(brokenLink("README.md", "README.md", "packages/server/README.md#no-such-heading")).toMatch(
      /no heading/,
    );
    expect(brokenLink("README.md", "README.md", "packages/server/README.md#configuration")).toBeUndefined();
  });
});

it("documents every variable the kit reads in the kit guide", () => {
  const help = execFileSync("node", [join(root, FIXTURE_BIN), "--help"], { encoding: "utf8" });
  const names = [...help.matchAll(/\[env: ([^\]]+)\]/g)].flatMap((m) => m[1]!.split(", "));
  expect(names.length).toBeGreaterThan(20);
  const guide = read(KIT_GUIDE);
  expect(names.filter((n) => !guide.includes(`\`${n}\``))).toEqual([]);
});
