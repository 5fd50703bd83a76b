// One document: generate its server into a temp folder, transpile it (no typecheck: the generator's
// own tests do that), start it in process behind the real SDK client, then measure tools/list and
// call every tool whose operation has example answers against a loopback upstream serving them.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { generate, loadDocument } from "@toolshed/openapi";
import { createTestClient } from "@toolshed/testing";
import ts from "typescript";
import type { DocumentCase } from "./documents.js";
import { answerSchema, exampleAnswers, requiredArgs } from "./examples.js";
import { ExampleJudge } from "./judge.js";

const require = createRequire(import.meta.url);
// Inside @toolshed/openapi's folder, so the generated code resolves @toolshed/server and zod there.
const OPENAPI_DIR = dirname(require.resolve("@toolshed/openapi/package.json"));

export interface DocumentSamples {
  name: string;
  tools: number;
  tools_list_bytes: number;
  output_schema_bytes: number;
  /** Example answers tried, and how many the tool accepted. */
  examples: number;
  accepted: number;
  /**
   * Of those, the ones whose values the document's own response schema contradicts (judged by Ajv;
   * missing required properties alone do not count, see judge.ts), and how many of them the tool
   * accepted anyway: a tool should refuse what its document says cannot be.
   */
  contradicted: number;
  contradictedAccepted: number;
  /** Tools whose example answers were refused, with the first error (and Ajv's, when it agrees). */
  refused: { tool: string; error: string; contradicted?: string }[];
  /** Examples not tried because no arguments could be built for the tool. */
  untried: number;
  ms: number;
  /** Search mode (dynamic cases): bytes of its tools/list, and the top-3 hits of the requests. */
  search?: { tools_list_bytes: number; queries: number; top3: number; misses: string[] };
}

const TASKS = join(OPENAPI_DIR, "test/fixtures/github-tasks.json");

/** Search mode on the same server: its tools/list, and where search_tools ranks each request's tool. */
async function searchSamples(
  def: Parameters<typeof createTestClient>[0],
  config: unknown,
  available: Set<string>,
): Promise<NonNullable<DocumentSamples["search"]>> {
  const tasks = (
    JSON.parse(readFileSync(TASKS, "utf8")) as { tasks: { query: string; tool: string }[] }
  ).tasks.filter((t) => available.has(t.tool));
  const t = await createTestClient(def, { config, toolMode: "search" });
  try {
    const { tools } = await t.client.listTools();
    let top3 = 0;
    const misses: string[] = [];
    for (const task of tasks) {
      const r = (await t.client.callTool({
        name: "search_tools",
        arguments: { query: task.query, limit: 3 },
      })) as {
        structuredContent: { results: { name: string }[] };
      };
      const names = r.structuredContent.results.map((x) => x.name);
      if (names.includes(task.tool)) top3++;
      else misses.push(`'${task.query}' (wanted ${task.tool}): ${names.join(", ")}`);
    }
    return {
      tools_list_bytes: Buffer.byteLength(JSON.stringify({ tools })),
      queries: tasks.length,
      top3,
      misses,
    };
  } finally {
    await t.close();
  }
}

function transpileTree(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const file = join(entry.parentPath, entry.name);
    const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(file.replace(/\.ts$/, ".js"), outputText);
  }
}

export async function runDocument(c: DocumentCase): Promise<DocumentSamples> {
  const started = performance.now();
  const dir = mkdtempSync(join(OPENAPI_DIR, `.tmp-bench-${c.name}-`));
  let answer: unknown = {};
  const upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer)),
    );
  });
  try {
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const result = await generate({
      document: c.document,
      outDir: dir,
      name: c.name,
      ...(c.include ? { include: c.include } : {}),
    });
    transpileTree(join(dir, "src"));
    const def = (
      (await import(pathToFileURL(join(dir, "src/server.js")).href)) as {
        default: Parameters<typeof createTestClient>[0];
      }
    ).default;
    const { configSchema } = (await import(pathToFileURL(join(dir, "src/generated/config.js")).href)) as {
      configSchema: { parse(v: unknown): unknown };
    };
    const config = configSchema.parse({ baseUrl: base, allowPrivateNetwork: true });
    // Every tool listed, however many: the figures are per tool (search mode is measured apart).
    const t = await createTestClient(def, { config, toolMode: "all" });
    try {
      const { tools } = await t.client.listTools();
      const samples: DocumentSamples = {
        name: c.name,
        tools: tools.length,
        tools_list_bytes: Buffer.byteLength(JSON.stringify({ tools })),
        output_schema_bytes: tools.reduce(
          (n, tool) => n + Buffer.byteLength(JSON.stringify(tool.outputSchema ?? {})),
          0,
        ),
        examples: 0,
        accepted: 0,
        contradicted: 0,
        contradictedAccepted: 0,
        refused: [],
        untried: 0,
        ms: 0,
      };
      if (c.dynamic) {
        samples.search = await searchSamples(def, config, new Set(tools.map((tool) => tool.name)));
        samples.ms = Math.round(performance.now() - started);
        return samples;
      }
      const doc = await loadDocument(c.document);
      const judge = new ExampleJudge(doc);
      const byName = new Map(tools.map((tool) => [tool.name, tool]));
      for (const op of result.operations) {
        const tool = byName.get(op.name);
        if (!tool) continue;
        const args = requiredArgs(tool.inputSchema);
        const schema = answerSchema(doc, op.method, op.path);
        for (const example of exampleAnswers(doc, op.method, op.path)) {
          answer = example;
          const r = (await t.client.callTool({ name: op.name, arguments: args })) as {
            isError?: boolean;
            content: { text?: string }[];
          };
          const text = r.content[0]?.text ?? "";
          if (r.isError && /invalid arguments/.test(text)) {
            samples.untried++;
            continue;
          }
          samples.examples++;
          const verdict = schema === undefined ? undefined : judge.judge(schema, example);
          const contradicted = verdict?.kind === "contradicted" ? verdict.error : undefined;
          if (contradicted !== undefined) {
            samples.contradicted++;
            if (!r.isError) samples.contradictedAccepted++;
          }
          if (!r.isError) samples.accepted++;
          else if (!samples.refused.some((x) => x.tool === op.name))
            samples.refused.push({
              tool: op.name,
              error: text.slice(0, 300),
              ...(contradicted !== undefined ? { contradicted } : {}),
            });
        }
      }
      samples.ms = Math.round(performance.now() - started);
      return samples;
    } finally {
      await t.close();
    }
  } finally {
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
