// Wires a new server into the files that exist: a compose service, a Prometheus scrape job, the bench, the
// reliability targets and the root README's table of servers.
// Each edit inserts text next to the existing servers (comments, anchors and layout elsewhere stay byte for
// byte), then parses the result and checks the new entry before writing it.
// Each add has its inverse (`remove…`, for `pnpm gen remove <name>`): it cuts exactly the text the add
// inserted, so adding then removing (then Prettier) gives back the file byte for byte, and it leaves
// alone an entry that is not the generator's (a compose service not built as that server, say).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { isMap, isSeq, parseDocument, type Document } from "yaml";
import type { ServerNames } from "./names.js";

export const COMPOSE_FILE = "docker-compose.dev.yaml";
export const PROMETHEUS_FILE = "deploy/prometheus/prometheus.yml";

interface Located {
  /** Offset of the first character of the item's first line (indentation included). */
  start: number;
  /** Indentation of the item's line ("  data-analytics:" or "  - job_name: …"). */
  indent: number;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** Moves a line start up over the comment lines directly above it (they belong to that item). */
function aboveComments(text: string, start: number): number {
  let s = start;
  while (s > 0) {
    const prev = lineStart(text, s - 1);
    if (!/^\s*#/.test(text.slice(prev, s))) break;
    s = prev;
  }
  return s;
}

function locate(text: string, offset: number): Located {
  const start = lineStart(text, offset);
  return { start: aboveComments(text, start), indent: /^ */.exec(text.slice(start))![0].length };
}

function itemOffset(item: unknown): number {
  const node = (item as { key?: { range?: number[] }; range?: number[] }).key ?? item;
  return (node as { range?: number[] }).range?.[0] ?? -1;
}

/**
 * Where to insert a new item after item `after` of the block collection at `path`: before the next item,
 * or, after the last one, before the next top-level key (or at the end of the file).
 */
function insertionPoint(text: string, doc: Document, path: string[], after: number): Located {
  const coll = doc.getIn(path, true);
  if (!isMap(coll) && !isSeq(coll)) throw new Error(`${path.join(".")} is not a YAML map or list`);
  const first = coll.items[0];
  if (first === undefined) throw new Error(`${path.join(".")} is empty; add the entry by hand`);
  const indent = locate(text, itemOffset(first)).indent;
  return { start: itemEnd(text, doc, path, coll.items, after), indent };
}

/**
 * Where item `index` of a block collection ends: the start of the next item (with the comments above
 * it), or, for the last one, the start of the next top-level key (or the end of the file).
 */
function itemEnd(text: string, doc: Document, path: string[], items: unknown[], index: number): number {
  const next = items[index + 1];
  if (next !== undefined) return locate(text, itemOffset(next)).start;
  const top = doc.contents;
  if (isMap(top)) {
    const i = top.items.findIndex((p) => (p.key as { value?: unknown } | null)?.value === path[0]);
    const following = top.items[i + 1];
    if (following) return locate(text, itemOffset(following)).start;
  }
  return text.length;
}

/**
 * The inverse of insertBlock: cuts item `index` of the block collection at `path`, from the comments
 * above it to where the next item (or top-level key) starts, so the blank line after it goes too; the
 * last item of the file leaves the text ending in one newline.
 */
function removeItem(text: string, doc: Document, path: string[], index: number): string {
  const coll = doc.getIn(path, true);
  if (!isMap(coll) && !isSeq(coll)) throw new Error(`${path.join(".")} is not a YAML map or list`);
  const start = locate(text, itemOffset(coll.items[index])).start;
  const end = itemEnd(text, doc, path, coll.items, index);
  if (end >= text.length) return text.slice(0, start).replace(/\n*$/, "\n");
  return `${text.slice(0, start)}${text.slice(end)}`;
}

function indentBlock(block: string, indent: number): string {
  return block
    .split("\n")
    .map((l) => (l ? " ".repeat(indent) + l : l))
    .join("\n");
}

function insertBlock(text: string, at: Located, block: string): string {
  const body = indentBlock(block.trimEnd(), at.indent);
  if (at.start >= text.length) return `${text.replace(/\n*$/, "\n")}\n${body}\n`;
  return `${text.slice(0, at.start)}${body}\n\n${text.slice(at.start)}`;
}

function parse(text: string, file: string): Document {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length) throw new Error(`${file} is not valid YAML: ${doc.errors[0]!.message}`);
  return doc;
}

/** A credential the server reads from an env var, as its server.json declares it (`isSecret`). */
export interface ServerSecret {
  /** The env var, e.g. "WEATHER_API_KEY". */
  env: string;
  /** Its key in the server's k8s Secret (`toolshed-<name>`), e.g. "weather-api-key". */
  key: string;
}

/**
 * The credentials of `servers/<name>`: the env vars its server.json marks `isSecret` (a generated
 * OpenAPI server's security schemes; the template declares none). None when there is no server.json.
 */
export function serverSecrets(root: string, name: string): ServerSecret[] {
  const file = join(root, "servers", name, "server.json");
  if (!existsSync(file)) return [];
  let entry: { packages?: { environmentVariables?: { name?: string; isSecret?: boolean }[] }[] };
  try {
    entry = JSON.parse(readFileSync(file, "utf8")) as typeof entry;
  } catch (e) {
    throw new Error(
      `servers/${name}/server.json is not valid JSON (${(e as Error).message}); fix it, then rerun`,
    );
  }
  const names = new Set<string>();
  for (const pkg of entry.packages ?? []) {
    for (const v of pkg.environmentVariables ?? []) {
      if (v.isSecret && v.name && /^[A-Z_][A-Z0-9_]*$/.test(v.name)) names.add(v.name);
    }
  }
  return [...names].map((env) => ({ env, key: env.toLowerCase().replaceAll("_", "-") }));
}

/** What one edit did: the file (from the root), whether it changed, a note for the generator's output. */
export type WireResult = { file: string; changed: boolean; note: string };
type Result = WireResult;

/** The host port for a new compose service: one past the highest `127.0.0.1:${X_PORT:-N}:8080` used. */
export function nextHostPort(compose: string): number {
  const used = [...compose.matchAll(/127\.0\.0\.1:\$\{[A-Z0-9_]+:-(\d+)\}:8080/g)].map((m) => Number(m[1]));
  return Math.max(8080, ...used) + 1;
}

interface ComposeService {
  build?: { args?: { SERVER?: string } };
  environment?: Record<string, string>;
}

export function addComposeService(root: string, n: ServerNames): Result {
  const file = join(root, COMPOSE_FILE);
  if (!existsSync(file)) return { file: COMPOSE_FILE, changed: false, note: "not found, skipped" };
  const text = readFileSync(file, "utf8");
  const doc = parse(text, COMPOSE_FILE);
  const services = doc.getIn(["services"], true);
  if (!isMap(services)) throw new Error(`${COMPOSE_FILE} has no services map`);
  const plain = doc.toJS() as { services: Record<string, ComposeService> };
  const names = Object.keys(plain.services);
  // After the last server service (the ones built with ARG SERVER), or first when there is none.
  const lastServer = names.reduce((last, s, i) => (plain.services[s]?.build?.args?.SERVER ? i : last), -1);
  const port = nextHostPort(text);
  const env = `${n.constant}`;
  // Credentials come from the shell (or an .env file) that runs compose, never from this file; unset,
  // the server starts and its calls fail naming the variable.
  const secrets = serverSecrets(root, n.name);
  const block = [
    `${n.name}:`,
    `  build:`,
    `    context: .`,
    `    dockerfile: deploy/docker/Dockerfile`,
    `    args:`,
    `      SERVER: ${n.name}`,
    `  image: toolshed/${n.name}:dev`,
    `  command: ["--transport", "http", "--host", "0.0.0.0", "--port", "8080"]`,
    `  environment:`,
    `    <<: *server-env`,
    `    OTEL_SERVICE_NAME: ${n.name}`,
    `    TOOLSHED_ALLOWED_HOSTS: \${${env}_ALLOWED_HOSTS:-${n.name}:8080,127.0.0.1:${port},localhost:${port}}`,
    ...secrets.map((c) => `    ${c.env}: \${${c.env}:-}`),
    `  ports:`,
    `    - "127.0.0.1:\${${env}_PORT:-${port}}:8080"`,
    `  healthcheck: *server-healthcheck`,
    `  depends_on:`,
    `    redis:`,
    `      condition: service_healthy`,
    `    otel-collector:`,
    `      condition: service_started`,
    // Bounded like every container of the stack (deploy/test/compose.test.ts checks it).
    `  mem_limit: 512m`,
    ...(/&logging\b/.test(text) ? [`  logging: *logging`] : []),
    `  networks: [toolshed]`,
    `  restart: unless-stopped`,
  ].join("\n");
  const at =
    lastServer >= 0
      ? insertionPoint(text, doc, ["services"], lastServer)
      : { ...locate(text, itemOffset(services.items[0])) };
  const out = insertBlock(text, at, block);
  const check = parse(out, COMPOSE_FILE).toJS({ maxAliasCount: -1 }) as {
    services: Record<string, ComposeService>;
  };
  const added = check.services[n.name];
  if (added?.build?.args?.SERVER !== n.name || !added.environment?.OTEL_EXPORTER_OTLP_ENDPOINT) {
    throw new Error(`could not add the '${n.name}' service to ${COMPOSE_FILE} cleanly; add it by hand`);
  }
  writeFileSync(file, out);
  return {
    file: COMPOSE_FILE,
    changed: true,
    note:
      `service '${n.name}' on http://127.0.0.1:${port}/mcp` +
      (secrets.length
        ? `, credentials from ${secrets.map((c) => c.env).join(", ")} in your environment`
        : ""),
  };
}

/**
 * Gives the server's k8s overlay (written from templates/overlay) its credentials: each env var read
 * from the server's Secret `toolshed-<name>` (`optional`, so the pod starts before the key is added,
 * and its calls fail naming the variable), and the `kubectl create secret` line in kustomization.yaml
 * naming each key. No credentials, no edit.
 */
export function addOverlayCredentials(root: string, n: ServerNames): Result {
  const dir = `deploy/k8s/overlays/${n.name}`;
  const patchFile = `${dir}/deployment-patch.yaml`;
  const secrets = serverSecrets(root, n.name);
  if (!secrets.length) return { file: patchFile, changed: false, note: "no credentials to wire" };
  if (!existsSync(join(root, patchFile)))
    return { file: patchFile, changed: false, note: "not found, skipped" };
  const patch = readFileSync(join(root, patchFile), "utf8");
  const anchor = /^( *)- name: OTEL_SERVICE_NAME$/m.exec(patch);
  if (!anchor)
    throw new Error(
      `${patchFile} has no OTEL_SERVICE_NAME entry to add the credentials before; add them by hand`,
    );
  const pad = anchor[1]!;
  const entries = secrets
    .map((c) =>
      [
        `${pad}- name: ${c.env}`,
        `${pad}  valueFrom:`,
        `${pad}    secretKeyRef:`,
        `${pad}      name: toolshed-${n.name}`,
        `${pad}      key: ${c.key}`,
        `${pad}      optional: true`,
      ].join("\n"),
    )
    .join("\n");
  const out = `${patch.slice(0, anchor.index)}${entries}\n${patch.slice(anchor.index)}`;
  const env = (parse(out, patchFile).toJS() as DeploymentPatch).spec.template.spec.containers[0]?.env ?? [];
  for (const c of secrets) {
    if (env.find((e) => e.name === c.env)?.valueFrom?.secretKeyRef?.key !== c.key) {
      throw new Error(`could not add ${c.env} to ${patchFile} cleanly; add it by hand`);
    }
  }
  writeFileSync(join(root, patchFile), out);
  const kustomization = join(root, dir, "kustomization.yaml");
  if (existsSync(kustomization)) {
    const text = readFileSync(kustomization, "utf8");
    const line = /^# .*kubectl create secret generic toolshed-\S+ .*$/m.exec(text);
    if (line) {
      const more = secrets.map((c) => ` \\\n#   --from-literal=${c.key}='<${c.env}>'`).join("");
      writeFileSync(
        kustomization,
        `${text.slice(0, line.index + line[0].length)}${more}${text.slice(line.index + line[0].length)}`,
      );
    }
  }
  return {
    file: patchFile,
    changed: true,
    note: `${secrets.map((c) => c.env).join(", ")} from Secret toolshed-${n.name} (${secrets.map((c) => c.key).join(", ")})`,
  };
}

interface DeploymentPatch {
  spec: {
    template: {
      spec: {
        containers: { env?: { name: string; valueFrom?: { secretKeyRef?: { key?: string } } }[] }[];
      };
    };
  };
}

/** Services other than `name` whose depends_on (a list or a map) names it: removing it would break them. */
export function composeDependents(root: string, name: string): string[] {
  const file = join(root, COMPOSE_FILE);
  if (!existsSync(file)) return [];
  const plain = parse(readFileSync(file, "utf8"), COMPOSE_FILE).toJS({ maxAliasCount: -1 }) as {
    services?: Record<string, { depends_on?: string[] | Record<string, unknown> } | null>;
  };
  return Object.entries(plain.services ?? {})
    .filter(([s, svc]) => {
      const deps = svc?.depends_on;
      if (s === name || !deps) return false;
      return Array.isArray(deps) ? deps.includes(name) : Object.hasOwn(deps, name);
    })
    .map(([s]) => s);
}

/** The index of the item of a YAML map whose key is `key`, or -1. */
function keyIndex(coll: unknown, key: string): number {
  if (!isMap(coll)) return -1;
  return coll.items.findIndex((p) => (p.key as { value?: unknown } | null)?.value === key);
}

/** The inverse of addComposeService: cuts the service built as this server (build arg SERVER) and nothing else. */
export function removeComposeService(root: string, n: ServerNames): Result {
  const file = join(root, COMPOSE_FILE);
  if (!existsSync(file)) return { file: COMPOSE_FILE, changed: false, note: "not found, skipped" };
  const text = readFileSync(file, "utf8");
  const doc = parse(text, COMPOSE_FILE);
  const services = doc.getIn(["services"], true);
  if (!isMap(services)) throw new Error(`${COMPOSE_FILE} has no services map`);
  const index = keyIndex(services, n.name);
  if (index < 0) return { file: COMPOSE_FILE, changed: false, note: `no '${n.name}' service` };
  const before = doc.toJS({ maxAliasCount: -1 }) as { services: Record<string, ComposeService> };
  if (before.services[n.name]?.build?.args?.SERVER !== n.name) {
    return {
      file: COMPOSE_FILE,
      changed: false,
      note: `service '${n.name}' is not built as a server (no build arg SERVER: ${n.name}); left alone`,
    };
  }
  const dependents = composeDependents(root, n.name);
  if (dependents.length) {
    throw new Error(
      `${COMPOSE_FILE}: ${dependents.join(", ")} depend${dependents.length === 1 ? "s" : ""} on '${n.name}'; ` +
        `take it out of their depends_on first`,
    );
  }
  if (services.items.length === 1) {
    throw new Error(`'${n.name}' is the only service in ${COMPOSE_FILE}; remove it by hand`);
  }
  const out = removeItem(text, doc, ["services"], index);
  // Everything else must read the same as before: the other services (anchors and merges resolved) and
  // every other top-level key.
  const expected = structuredClone(before);
  delete expected.services[n.name];
  if (!isDeepStrictEqual(parse(out, COMPOSE_FILE).toJS({ maxAliasCount: -1 }), expected)) {
    throw new Error(
      `could not remove the '${n.name}' service from ${COMPOSE_FILE} cleanly; remove it by hand`,
    );
  }
  writeFileSync(file, out);
  return { file: COMPOSE_FILE, changed: true, note: `service '${n.name}'` };
}

export function addPrometheusJob(root: string, n: ServerNames): Result {
  const file = join(root, PROMETHEUS_FILE);
  if (!existsSync(file)) return { file: PROMETHEUS_FILE, changed: false, note: "not found, skipped" };
  const text = readFileSync(file, "utf8");
  const doc = parse(text, PROMETHEUS_FILE);
  const jobs = (doc.toJS() as { scrape_configs?: { static_configs?: { targets?: string[] }[] }[] })
    .scrape_configs;
  if (!Array.isArray(jobs)) throw new Error(`${PROMETHEUS_FILE} has no scrape_configs list`);
  // After the last job that scrapes a server on :8080, or first when there is none.
  const lastServer = jobs.reduce(
    (last, j, i) => (j.static_configs?.some((c) => c.targets?.some((t) => t.endsWith(":8080"))) ? i : last),
    -1,
  );
  const block = [
    `- job_name: ${n.name}`,
    `  metrics_path: /metrics`,
    `  static_configs:`,
    `    - targets: ["${n.name}:8080"]`,
    `      labels:`,
    `        server: ${n.name}`,
  ].join("\n");
  const seq = doc.getIn(["scrape_configs"], true);
  const at =
    lastServer >= 0
      ? insertionPoint(text, doc, ["scrape_configs"], lastServer)
      : locate(text, itemOffset(isSeq(seq) ? seq.items[0] : undefined));
  const out = insertBlock(text, at, block);
  const check = parse(out, PROMETHEUS_FILE).toJS() as {
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const job = check.scrape_configs.find((j) => j.job_name === n.name);
  if (job?.static_configs[0]?.targets[0] !== `${n.name}:8080`) {
    throw new Error(`could not add the '${n.name}' job to ${PROMETHEUS_FILE} cleanly; add it by hand`);
  }
  writeFileSync(file, out);
  return { file: PROMETHEUS_FILE, changed: true, note: `scrape job '${n.name}'` };
}

/** The inverse of addPrometheusJob: cuts the job named for the server that scrapes `<name>:8080`. */
export function removePrometheusJob(root: string, n: ServerNames): Result {
  const file = join(root, PROMETHEUS_FILE);
  if (!existsSync(file)) return { file: PROMETHEUS_FILE, changed: false, note: "not found, skipped" };
  const text = readFileSync(file, "utf8");
  const doc = parse(text, PROMETHEUS_FILE);
  const before = doc.toJS() as {
    scrape_configs?: { job_name?: string; static_configs?: { targets?: string[] }[] }[];
  };
  const jobs = before.scrape_configs;
  if (!Array.isArray(jobs)) throw new Error(`${PROMETHEUS_FILE} has no scrape_configs list`);
  const index = jobs.findIndex((j) => j.job_name === n.name);
  if (index < 0) return { file: PROMETHEUS_FILE, changed: false, note: `no '${n.name}' job` };
  if (!jobs[index]!.static_configs?.some((c) => c.targets?.includes(`${n.name}:8080`))) {
    return {
      file: PROMETHEUS_FILE,
      changed: false,
      note: `job '${n.name}' does not scrape ${n.name}:8080; left alone`,
    };
  }
  if (jobs.length === 1)
    throw new Error(`'${n.name}' is the only job in ${PROMETHEUS_FILE}; remove it by hand`);
  const out = removeItem(text, doc, ["scrape_configs"], index);
  const expected = structuredClone(before);
  expected.scrape_configs!.splice(index, 1);
  if (!isDeepStrictEqual(parse(out, PROMETHEUS_FILE).toJS(), expected)) {
    throw new Error(
      `could not remove the '${n.name}' job from ${PROMETHEUS_FILE} cleanly; remove it by hand`,
    );
  }
  writeFileSync(file, out);
  return { file: PROMETHEUS_FILE, changed: true, note: `scrape job '${n.name}'` };
}

export const BENCH_PACKAGE = "bench/package.json";
export const RELIABILITY_TARGETS = "bench/src/reliability/targets.ts";

interface BenchPackage {
  devDependencies?: Record<string, string>;
}

/** The bench's package.json, parsed; undefined when the repository has no bench. */
function readBenchPackage(file: string): BenchPackage | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as BenchPackage;
  } catch (e) {
    throw new Error(`${BENCH_PACKAGE} is not valid JSON (${(e as Error).message}); fix it, then rerun`);
  }
}

/** Two-space JSON and a final newline: what Prettier writes for package.json. */
function writeBenchPackage(file: string, pkg: BenchPackage): void {
  writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
}

/** Adds the server to the bench's devDependencies (kept sorted), so the reliability suites can run its bin. */
export function addBenchDependency(root: string, n: ServerNames): Result {
  const file = join(root, BENCH_PACKAGE);
  const pkg = readBenchPackage(file);
  if (!pkg) return { file: BENCH_PACKAGE, changed: false, note: "not found, skipped" };
  const dep = `@toolshed/server-${n.name}`;
  const deps = pkg.devDependencies ?? {};
  if (deps[dep]) return { file: BENCH_PACKAGE, changed: false, note: `${dep} is there already` };
  deps[dep] = "workspace:*";
  pkg.devDependencies = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeBenchPackage(file, pkg);
  return { file: BENCH_PACKAGE, changed: true, note: `devDependency ${dep}` };
}

/** The inverse of addBenchDependency: drops `@toolshed/server-<name>` from the bench's devDependencies. */
export function removeBenchDependency(root: string, n: ServerNames): Result {
  const file = join(root, BENCH_PACKAGE);
  const pkg = readBenchPackage(file);
  if (!pkg) return { file: BENCH_PACKAGE, changed: false, note: "not found, skipped" };
  const dep = `@toolshed/server-${n.name}`;
  if (!pkg.devDependencies || !Object.hasOwn(pkg.devDependencies, dep)) {
    return { file: BENCH_PACKAGE, changed: false, note: `no devDependency ${dep}` };
  }
  delete pkg.devDependencies[dep];
  writeBenchPackage(file, pkg);
  return { file: BENCH_PACKAGE, changed: true, note: `devDependency ${dep}` };
}

/**
 * Appends the server to `TARGETS` in the reliability suites (fuzz, load, attacks, faults), calling the
 * template's example tool: `hello` as the safe call, a blank name (refused inside the handler with a
 * ToolshedError, logged at warn) as the failing one. Inserted just before the array's closing `];`.
 */
export function addReliabilityTarget(root: string, n: ServerNames): Result {
  const file = join(root, RELIABILITY_TARGETS);
  if (!existsSync(file)) return { file: RELIABILITY_TARGETS, changed: false, note: "not found, skipped" };
  const text = readFileSync(file, "utf8");
  const decl = /^export const TARGETS\b[^=]*=\s*\[/m.exec(text);
  // The array's own closing bracket: the first unindented `];` after the declaration.
  const close = decl ? text.slice(decl.index).search(/^\];/m) : -1;
  if (!decl || close < 0) {
    throw new Error(
      `${RELIABILITY_TARGETS} has no \`export const TARGETS = [ … ];\` array; add the '${n.name}' target by hand`,
    );
  }
  const at = decl.index + close;
  const pkg = `@toolshed/server-${n.name}`;
  if (text.slice(decl.index, at).includes(`binOf("${pkg}")`)) {
    return { file: RELIABILITY_TARGETS, changed: false, note: `target '${n.name}' is there already` };
  }
  const block = [
    `{`,
    `  // From the template: swap in this server's own quick, offline calls as its tools land.`,
    `  name: "${n.name}",`,
    `  bin: binOf("${pkg}"),`,
    `  args: [],`,
    `  env: {},`,
    `  safeCalls: [{ name: "hello", arguments: { name: "Ada", times: 2 } }],`,
    `  // A blank name passes the schema and is refused inside the tool (a ToolshedError, logged at warn).`,
    `  failingCall: { name: "hello", arguments: { name: " " } },`,
    `},`,
  ].join("\n");
  // The last entry ends with a comma under Prettier's trailingComma "all"; a hand-edited one may not.
  const head = text.slice(0, at).trimEnd();
  const sep = /[[,]$/.test(head) ? "" : ",";
  const out = `${head}${sep}\n${indentBlock(block, 2)}\n${text.slice(at)}`;
  writeFileSync(file, out);
  return { file: RELIABILITY_TARGETS, changed: true, note: `reliability target '${n.name}'` };
}

/**
 * The inverse of addReliabilityTarget: cuts the `TARGETS` entry that runs `binOf("@toolshed/server-<name>")`,
 * from its opening `  {` line (and the comment lines right above it) to its closing `  },` line.
 */
export function removeReliabilityTarget(root: string, n: ServerNames): Result {
  const file = join(root, RELIABILITY_TARGETS);
  if (!existsSync(file)) return { file: RELIABILITY_TARGETS, changed: false, note: "not found, skipped" };
  const text = readFileSync(file, "utf8");
  const decl = /^export const TARGETS\b[^=]*=\s*\[/m.exec(text);
  const close = decl ? decl.index + text.slice(decl.index).search(/^\];/m) : -1;
  const pkg = `@toolshed/server-${n.name}`;
  const bin = decl && close > decl.index ? text.indexOf(`binOf("${pkg}")`, decl.index) : -1;
  if (bin < 0 || bin > close) {
    return { file: RELIABILITY_TARGETS, changed: false, note: `no target '${n.name}'` };
  }
  // Entries are the array's items at two spaces: `  {` … `  },` (Prettier's layout, which the add writes).
  const open = text.slice(0, bin).lastIndexOf("\n  {\n");
  const end = text.indexOf("\n  },\n", bin);
  if (open < decl!.index || end < 0 || end > close) {
    throw new Error(
      `${RELIABILITY_TARGETS}: cannot find where the '${n.name}' target starts and ends; remove it by hand`,
    );
  }
  let start = open + 1;
  while (start > decl!.index) {
    const prev = lineStart(text, start - 1);
    if (!/^ {2}\/\//.test(text.slice(prev, start))) break;
    start = prev;
  }
  const out = text.slice(0, start) + text.slice(end + "\n  },\n".length);
  writeFileSync(file, out);
  return { file: RELIABILITY_TARGETS, changed: true, note: `reliability target '${n.name}'` };
}

export const ROOT_README = "README.md";

/**
 * Adds the server to the root README's table of servers (the front door links every server's README;
 * `deploy/test/docs.test.ts` checks it), after the last `servers/` row, with a TODO for its one line.
 * The caller formats the file with Prettier, which realigns the table.
 */
export function addReadmeRow(root: string, n: ServerNames): Result {
  const file = join(root, ROOT_README);
  if (!existsSync(file)) return { file: ROOT_README, changed: false, note: "not found, skipped" };
  const text = readFileSync(file, "utf8");
  const link = `servers/${n.name}/README.md`;
  if (text.includes(`](${link})`))
    return { file: ROOT_README, changed: false, note: `${link} is linked already` };
  const rows = [...text.matchAll(/^\| \[`[^`]+`\]\(servers\/[^)]+\/README\.md\) +\|.*$/gm)];
  const last = rows.at(-1);
  if (!last) {
    throw new Error(
      `${ROOT_README} has no table of servers (rows like "| [\`github\`](servers/github/README.md) | … |"); ` +
        `add a row linking ${link} by hand`,
    );
  }
  const at = last.index + last[0].length;
  const row = `| [\`${n.name}\`](${link}) | TODO: what a model can do with it |`;
  writeFileSync(file, `${text.slice(0, at)}\n${row}${text.slice(at)}`);
  return { file: ROOT_README, changed: true, note: `a row for ${n.name} in the table of servers` };
}

/**
 * The inverse of addReadmeRow: drops the table row that links `servers/<name>/README.md` (whatever its
 * description says by now). The caller formats the file with Prettier, which realigns the table.
 */
export function removeReadmeRow(root: string, n: ServerNames): Result {
  const file = join(root, ROOT_README);
  if (!existsSync(file)) return { file: ROOT_README, changed: false, note: "not found, skipped" };
  const text = readFileSync(file, "utf8");
  const link = `servers/${n.name}/README.md`;
  const row = new RegExp(
    `\\n\\| \\[\`${n.name}\`\\]\\(${link.replace(/[.]/g, "\\.")}\\) +\\|.*(?=\\n|$)`,
  ).exec(text);
  if (!row) return { file: ROOT_README, changed: false, note: `no row linking ${link}` };
  writeFileSync(file, text.slice(0, row.index) + text.slice(row.index + row[0].length));
  return { file: ROOT_README, changed: true, note: `the row for ${n.name} in the table of servers` };
}
