import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { officialToolsListBytes } from "@toolshed/server-github";

export type Mode = "full" | "quick" | "smoke";

export interface Plan {
  /** list_pull_requests calls per side in the rate-limit phase. */
  calls: number;
  /** Every n-th GitHub request in that phase answers 403 "secondary rate limit" with Retry-After: 1. */
  limitEvery: number;
  watchdogMs: number;
}

export const PLANS: Record<Mode, Plan> = {
  full: { calls: 30, limitEvery: 3, watchdogMs: 300_000 },
  quick: { calls: 12, limitEvery: 3, watchdogMs: 120_000 },
  smoke: { calls: 6, limitEvery: 3, watchdogMs: 60_000 },
};

export interface Samples {
  tools_list_bytes: { default: number; all: number; read_only: number };
  list_prs: { raw_bytes: number; result_bytes: number; items: number };
  diff: { raw_bytes: number; first_page_bytes: number };
  limited: {
    ours: { ok: number; calls: number; github_requests: number; ms: number[] };
    baseline: { ok: number; calls: number; github_requests: number };
  };
  repeats: { ours_full_answers: number; ours_304s: number; baseline_full_answers: number; calls: number };
}

const FIXTURES = fileURLToPath(new URL("../../../servers/github/test/fixtures/", import.meta.url));
const BIN = fileURLToPath(new URL("../../../servers/github/dist/bin.js", import.meta.url));
const PULLS = "/repos/octo-org/widgets/pulls";

interface Recording {
  method: string;
  path: string;
  status: number;
  response: unknown;
  headers: Record<string, string>;
  reqheaders?: { accept?: string };
}

/** A replayer of the github server's recorded fixtures with 30 PRs in the list, ETags and injected limits. */
class Upstream {
  requests = 0;
  fulls = 0;
  notModified = 0;
  limitEvery = 0;
  private server!: Server;
  url = "";
  readonly listBody: string;
  readonly diffBody: string;
  private readonly headers: Record<string, string>;

  constructor() {
    const recs = JSON.parse(readFileSync(`${FIXTURES}pull-requests.json`, "utf8")) as Recording[];
    const list = recs.find((r) => r.path.startsWith(`${PULLS}?`))!;
    const one = (list.response as Record<string, unknown>[])[0]!;
    // 30 pull requests, as `GET /pulls?per_page=30` returns them.
    this.listBody = JSON.stringify(
      Array.from({ length: 30 }, (_, i) => ({ ...one, number: 100 + i, id: 9000 + i })),
    );
    this.diffBody = String(recs.find((r) => String(r.reqheaders?.accept ?? "").includes("diff"))!.response);
    this.headers = Object.fromEntries(
      Object.entries(list.headers).filter(([k]) => !["content-length", "link", "etag"].includes(k)),
    );
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests++;
      const url = req.url ?? "/";
      if (this.limitEvery > 0 && this.requests % this.limitEvery === 0) {
        res.writeHead(403, { ...this.headers, "retry-after": "1" });
        res.end(
          JSON.stringify({ message: "You have exceeded a secondary rate limit. Please wait a few minutes." }),
        );
        return;
      }
      if (url.startsWith(`${PULLS}/7`) && String(req.headers.accept).includes("diff")) {
        res.writeHead(200, { ...this.headers, "content-type": "application/vnd.github.diff; charset=utf-8" });
        res.end(this.diffBody);
        return;
      }
      if (url.startsWith(PULLS)) {
        const etag = 'W/"bench-list"';
        if (req.headers["if-none-match"] === etag) {
          this.notModified++;
          res.writeHead(304, { ...this.headers, etag });
          res.end();
          return;
        }
        this.fulls++;
        res.writeHead(200, { ...this.headers, etag });
        res.end(this.listBody);
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"message":"Not Found"}');
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.requests = this.fulls = this.notModified = 0;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

async function connect(apiUrl: string, args: string[] = []): Promise<Client> {
  const client = new Client({ name: "bench-github", version: "0.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, ...args],
      env: {
        ...(process.env as Record<string, string>),
        GITHUB_API_URL: apiUrl,
        GITHUB_TOKEN: "ghp_bench",
        TOOLSHED_LOG_LEVEL: "warn",
      },
      stderr: "ignore",
    }),
  );
  return client;
}

async function listBytes(apiUrl: string, args: string[]): Promise<number> {
  const client = await connect(apiUrl, args);
  try {
    return Buffer.byteLength(JSON.stringify((await client.listTools()).tools));
  } finally {
    await client.close();
  }
}

const textOf = (r: unknown) =>
  ((r as { content: { text?: string }[] }).content ?? []).map((c) => c.text ?? "").join("");

export async function runGithub(plan: Plan, log: (line: string) => void): Promise<Samples> {
  const up = new Upstream();
  await up.start();
  try {
    log("tools/list sizes");
    const tools_list_bytes = {
      default: await listBytes(up.url, []),
      // Every toolset is past the kit's search threshold (40 tools): list them all, as the official does.
      all: await listBytes(up.url, ["--toolsets", "all", "--tool-mode", "all"]),
      read_only: await listBytes(up.url, ["--read-only"]),
    };
    const client = await connect(up.url);
    try {
      const args = { owner: "octo-org", repo: "widgets", per_page: 30 };
      const list = await client.callTool({ name: "list_pull_requests", arguments: args });
      const list_prs = {
        raw_bytes: Buffer.byteLength(up.listBody),
        result_bytes: Buffer.byteLength(textOf(list)),
        items: ((list.structuredContent as { items?: unknown[] }).items ?? []).length,
      };
      const diffResult = await client.callTool({
        name: "pull_request_read",
        arguments: { owner: "octo-org", repo: "widgets", pull_number: 7, method: "diff" },
      });
      const diff = {
        raw_bytes: Buffer.byteLength(up.diffBody),
        first_page_bytes: Buffer.byteLength(textOf(diffResult)),
      };

      log(`repeated reads: ${plan.calls} list calls each side`);
      up.reset();
      for (let i = 0; i < plan.calls; i++)
        await client.callTool({ name: "list_pull_requests", arguments: args });
      const ours304 = up.notModified;
      const oursFull = up.fulls;
      up.reset();
      for (let i = 0; i < plan.calls; i++) await (await fetch(`${up.url}${PULLS}?per_page=30`)).text();
      const repeats = {
        ours_full_answers: oursFull,
        ours_304s: ours304,
        baseline_full_answers: up.fulls,
        calls: plan.calls,
      };

      log(`secondary limits on one GitHub request in ${plan.limitEvery}: ${plan.calls} calls each side`);
      up.reset();
      up.limitEvery = plan.limitEvery;
      const ms: number[] = [];
      let ok = 0;
      for (let i = 0; i < plan.calls; i++) {
        const started = performance.now();
        const r = await client.callTool({
          name: "list_pull_requests",
          arguments: { ...args, state: i % 2 ? "all" : "open" },
        });
        ms.push(Math.round((performance.now() - started) * 10) / 10);
        if (!r.isError) ok++;
      }
      const ours = { ok, calls: plan.calls, github_requests: up.requests, ms };
      up.reset();
      let baseOk = 0;
      // The baseline passes GitHub's answer through with no retry (as a server without retry logic does).
      for (let i = 0; i < plan.calls; i++) {
        const res = await fetch(`${up.url}${PULLS}?per_page=30`);
        await res.text();
        if (res.ok) baseOk++;
      }
      const baseline = { ok: baseOk, calls: plan.calls, github_requests: up.requests };
      up.limitEvery = 0;
      return { tools_list_bytes, list_prs, diff, limited: { ours, baseline }, repeats };
    } finally {
      await client.close();
    }
  } finally {
    await up.close();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The official server's tools/list for its default toolsets and for all of them: the sizes of its
 * own tool definitions (its `__toolsnaps__`, recorded per tool in the github server's official.ts;
 * it cannot run here).
 */
export const OFFICIAL = {
  default: officialToolsListBytes("default"),
  all: officialToolsListBytes("all"),
};

export function figuresOf(s: Samples): Record<string, number> {
  return {
    tools_list_bytes_default: s.tools_list_bytes.default,
    tools_list_bytes_all: s.tools_list_bytes.all,
    tools_list_bytes_read_only: s.tools_list_bytes.read_only,
    official_tools_list_bytes_default: OFFICIAL.default.bytes,
    official_tools_list_bytes_all: OFFICIAL.all.bytes,
    tools_list_ratio_vs_official: r3(s.tools_list_bytes.default / OFFICIAL.default.bytes),
    tools_list_ratio_vs_official_all: r3(s.tools_list_bytes.all / OFFICIAL.all.bytes),
    list_30_prs_raw_bytes: s.list_prs.raw_bytes,
    list_30_prs_result_bytes: s.list_prs.result_bytes,
    list_30_prs_ratio_vs_raw: r3(s.list_prs.result_bytes / s.list_prs.raw_bytes),
    diff_raw_bytes: s.diff.raw_bytes,
    diff_first_page_bytes: s.diff.first_page_bytes,
    limited_success_rate: r3(s.limited.ours.ok / s.limited.ours.calls),
    limited_success_rate_baseline: r3(s.limited.baseline.ok / s.limited.baseline.calls),
    limited_call_median_ms: median(s.limited.ours.ms),
    repeat_reads_full_answers: s.repeats.ours_full_answers,
    repeat_reads_304s: s.repeats.ours_304s,
    repeat_reads_full_answers_baseline: s.repeats.baseline_full_answers,
  };
}
