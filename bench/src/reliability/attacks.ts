import { request as httpRequest } from "node:http";
import { generateApiKey, hashApiKey } from "@toolshed/auth";
import { KIT_EXHAUSTION_ATTACKS } from "./kit-exhaustion-attacks.js";
import { startServer } from "./processes.js";
import {
  callMessage as call,
  initializeMessage,
  openSession,
  PROTOCOL_VERSION,
  rawPost,
  rawRequest,
} from "./raw-http.js";
import type { Attack, AttackContext, AttackOutcome, ReliabilityTarget } from "./types.js";

export async function startAttackServer(target: ReliabilityTarget): Promise<AttackContext> {
  const alice = generateApiKey();
  const bob = generateApiKey();
  const reader = generateApiKey();
  const upstream = await target.attackUpstream?.();
  const server = await startServer(target, {
    args: ["--log-level", "debug", ...(target.attackArgs ?? [])],
    env: {
      ...upstream?.env,
      TOOLSHED_API_KEYS: `alice:${hashApiKey(alice)}:*;bob:${hashApiKey(bob)}:*;reader:${hashApiKey(reader)}:${target.name}:read`,
    },
  }).catch(async (err: unknown) => {
    await upstream?.close();
    throw err;
  });
  return {
    target,
    server,
    url: `${server.base}/mcp`,
    alice,
    bob,
    reader,
    secrets: [alice, bob, reader],
    close: async () => {
      await server.stop("SIGTERM");
      await upstream?.close();
    },
  };
}

/** A request that got through: 2xx, or a JSON-RPC result in the body. */
function through(status: number, body: string): boolean {
  return (status >= 200 && status < 300) || /"result"\s*:/.test(body);
}

function expectStatus(ctx: { status: number; body: string }, ...expected: number[]): AttackOutcome {
  const refused = expected.includes(ctx.status) && !through(ctx.status, ctx.body);
  return {
    refused,
    detail: `HTTP ${ctx.status} (expected ${expected.join(" or ")}): ${ctx.body.slice(0, 160)}`,
  };
}

/** Several attempts: refused only if each one is. */
function all(outcomes: AttackOutcome[]): AttackOutcome {
  return { refused: outcomes.every((o) => o.refused), detail: outcomes.map((o) => o.detail).join("; ") };
}

/** A GET on a path exactly as written (node:http does not normalise `..` or `//`). */
function getPath(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path, method: "GET", headers, timeout: 5_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

const jwtNone = (sub: string) =>
  [
    Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url"),
    Buffer.from(JSON.stringify({ sub, scope: "*", exp: Math.floor(Date.now() / 1000) + 3600 })).toString(
      "base64url",
    ),
    "",
  ].join(".");

export const ATTACKS: readonly Attack[] = [
  {
    name: "auth bypass: no credentials is refused (401)",
    run: async (ctx) => expectStatus(await rawPost(ctx.url, initializeMessage(), {}), 401),
  },
  {
    name: "auth bypass: a wrong API key is refused (401)",
    run: async (ctx) => {
      const wrong = generateApiKey();
      ctx.secrets.push(wrong);
      return all([
        expectStatus(await rawPost(ctx.url, initializeMessage(), { "x-api-key": wrong }), 401),
        expectStatus(await rawPost(ctx.url, initializeMessage(), { authorization: `Bearer ${wrong}` }), 401),
        expectStatus(
          await rawPost(ctx.url, initializeMessage(), { "x-api-key": ctx.alice.slice(0, -1) }),
          401,
        ),
      ]);
    },
  },
  {
    name: "auth bypass: a valid API key in the query string is refused (401)",
    run: async (ctx) => {
      const outcomes: AttackOutcome[] = [];
      for (const param of ["api_key", "apiKey", "key", "access_token", "token", "x-api-key"]) {
        const res = await rawPost(
          `${ctx.url}?${param}=${encodeURIComponent(ctx.alice)}`,
          initializeMessage(),
          {},
        );
        outcomes.push(expectStatus(res, 401));
      }
      return all(outcomes);
    },
  },
  {
    name: "auth bypass: a valid API key sent as Authorization: Basic is refused (401)",
    run: async (ctx) =>
      all(
        await Promise.all(
          [`${ctx.alice}:`, `alice:${ctx.alice}`, `:${ctx.alice}`].map(async (pair) =>
            expectStatus(
              await rawPost(ctx.url, initializeMessage(), {
                authorization: `Basic ${Buffer.from(pair).toString("base64")}`,
              }),
              401,
            ),
          ),
        ),
      ),
  },
  {
    name: "auth bypass: a JWT with alg none is refused (401)",
    run: async (ctx) => {
      const token = jwtNone("alice");
      ctx.secrets.push(token);
      return expectStatus(
        await rawPost(ctx.url, initializeMessage(), { authorization: `Bearer ${token}` }),
        401,
      );
    },
  },
  {
    name: "auth bypass: CRLF header injection and folded headers are refused (400/401)",
    run: async (ctx) => {
      const wrong = generateApiKey();
      ctx.secrets.push(wrong);
      const body = initializeMessage();
      const head = (extra: string) =>
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${ctx.server.port}\r\nContent-Type: application/json\r\n` +
        `Accept: application/json, text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
      const variants = [
        // A value with a bare LF that would smuggle a second header past a naive parser.
        `X-Api-Key: ${wrong}\nX-Api-Key: ${ctx.alice}\r\n`,
        // Obsolete line folding: a continuation line carrying credentials.
        `X-Api-Key: ${wrong}\r\n Authorization: Bearer ${ctx.alice}\r\n`,
        // A bare CR inside the value.
        `X-Api-Key: ${wrong}\rAuthorization: Bearer ${ctx.alice}\r\n`,
        // Two keys, one valid: ambiguous credentials are refused rather than guessed.
        `X-Api-Key: ${wrong}\r\nX-Api-Key: ${ctx.alice}\r\n`,
      ];
      const outcomes: AttackOutcome[] = [];
      for (const extra of variants)
        outcomes.push(expectStatus(await rawRequest(ctx.server.port, head(extra)), 400, 401));
      return all(outcomes);
    },
  },
  {
    name: "auth bypass: a valid key cannot use another principal's session (404)",
    run: async (ctx) => {
      const alice = await openSession(ctx.url, { "x-api-key": ctx.alice });
      const bobHeaders = { ...alice.headers, "x-api-key": ctx.bob };
      const safe = ctx.target.safeCalls[0]!;
      const post = await rawPost(ctx.url, call(1, safe.name, safe.arguments), bobHeaders);
      const deleted = await new Promise<{ status: number; body: string }>((resolve) => {
        const req = httpRequest(
          { host: "127.0.0.1", port: ctx.server.port, path: "/mcp", method: "DELETE", headers: bobHeaders },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: "" }));
          },
        );
        req.on("error", () => resolve({ status: 0, body: "" }));
        req.end();
      });
      const stillAlice = await rawPost(ctx.url, call(2, safe.name, safe.arguments), alice.headers);
      return all([
        expectStatus(post, 404),
        expectStatus(deleted, 404),
        {
          refused:
            stillAlice.status === 200 &&
            /"id"\s*:\s*2\b/.test(stillAlice.body) &&
            /"result"/.test(stillAlice.body),
          detail: `Alice's session after Bob's DELETE: HTTP ${stillAlice.status}`,
        },
      ]);
    },
  },
  {
    name: "DNS rebinding: Host: evil.example is refused (403)",
    run: async (ctx) =>
      expectStatus(
        await rawRequest(
          ctx.server.port,
          `POST /mcp HTTP/1.1\r\nHost: evil.example\r\nX-Api-Key: ${ctx.alice}\r\nContent-Type: application/json\r\n` +
            `Accept: application/json, text/event-stream\r\nContent-Length: ${Buffer.byteLength(initializeMessage())}\r\n\r\n${initializeMessage()}`,
        ),
        403,
      ),
  },
  {
    name: "DNS rebinding: Origin: http://evil.example is refused (403)",
    run: async (ctx) =>
      expectStatus(
        await rawPost(ctx.url, initializeMessage(), {
          "x-api-key": ctx.alice,
          origin: "http://evil.example",
        }),
        403,
      ),
  },
  {
    name: "oversized body: a POST over the body cap is refused (413), declared or chunked",
    run: async (ctx) => {
      const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
      const declared = await rawRequest(
        ctx.server.port,
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${ctx.server.port}\r\nX-Api-Key: ${ctx.alice}\r\nContent-Type: application/json\r\n` +
          `Accept: application/json, text/event-stream\r\nContent-Length: ${big.length}\r\n\r\n{"jsonrpc":`,
      );
      const chunked = await rawRequest(
        ctx.server.port,
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${ctx.server.port}\r\nX-Api-Key: ${ctx.alice}\r\nContent-Type: application/json\r\n` +
          `Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `${big.length.toString(16)}\r\n${big.toString("latin1")}\r\n0\r\n\r\n`,
        10_000,
      );
      return all([expectStatus(declared, 413), expectStatus(chunked, 413)]);
    },
  },
  {
    name: "path traversal: /mcp/../metrics, //mcp, %2e%2e and friends reach no route (404)",
    run: async (ctx) => {
      const paths = [
        "/mcp/../metrics",
        "//mcp",
        "/%2e%2e/mcp",
        "/mcp/%2e%2e/metrics",
        "/healthz/../mcp",
        "/mcp%2f..%2fmetrics",
        "/./mcp",
        "/MCP",
      ];
      const outcomes: AttackOutcome[] = [];
      for (const path of paths) {
        const res = await getPath(ctx.server.port, path, { "x-api-key": ctx.alice });
        const o = expectStatus(res, 404);
        outcomes.push({ refused: o.refused && !res.body.includes("# HELP"), detail: `${path}: ${o.detail}` });
      }
      return all(outcomes);
    },
  },
  {
    name: "JSON-RPC batch under protocol 2025-11-25 is refused (400)",
    run: async (ctx) => {
      const session = await openSession(ctx.url, { "x-api-key": ctx.alice });
      const batch = JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "ping" },
        {
          jsonrpc: "2.0",
          id: 2,
          method: "tools/call",
          params: ctx.target.safeCalls[0],
        },
      ]);
      return expectStatus(
        await rawPost(ctx.url, batch, { ...session.headers, "mcp-protocol-version": PROTOCOL_VERSION }),
        400,
      );
    },
  },
  {
    name: "secrets in logs: failures driven with known secrets leave none in any log line",
    run: async (ctx) => {
      // Drive failures that carry secrets: refused credentials, a crashing tool whose error names a
      // password, secret-named tool arguments. Then no captured log line may contain any of them.
      const wrong = generateApiKey();
      const password = `pw-${generateApiKey().slice(-16)}`;
      ctx.secrets.push(wrong, password, "hunter2");
      await rawPost(ctx.url, initializeMessage(), { "x-api-key": wrong });
      await rawPost(ctx.url, initializeMessage(), { authorization: `Bearer ${wrong}` });
      await rawPost(`${ctx.url}?api_key=${ctx.bob}&password=${password}`, initializeMessage(), {});
      await rawPost(ctx.url, initializeMessage(), {
        authorization: `Basic ${Buffer.from(`alice:${password}`).toString("base64")}`,
      });
      const session = await openSession(ctx.url, { "x-api-key": ctx.alice });
      const failing = ctx.target.failingCall;
      await rawPost(ctx.url, call(10, failing.name, failing.arguments), session.headers);
      const safe = ctx.target.safeCalls[0]!;
      await rawPost(
        ctx.url,
        call(11, safe.name, { ...safe.arguments, password, token: wrong, apiKey: ctx.bob }),
        session.headers,
      );
      await rawPost(ctx.url, call(12, "nope", { password }), session.headers);
      await new Promise((r) => setTimeout(r, 300)); // the logger writes asynchronously
      const lines = ctx.server.logLines();
      const leaks = ctx.secrets.filter((s) => lines.some((line) => line.includes(s)));
      // A warn or error line for the failing tool: successful calls log at debug too.
      const crashLogged = lines.some(
        (l) => l.includes(`"tool":"${failing.name}"`) && /"level":"(warn|error)"/.test(l),
      );
      return {
        refused: leaks.length === 0 && crashLogged,
        detail:
          `${lines.length} log lines, ${ctx.secrets.length} secrets checked; ` +
          (leaks.length ? `leaked: ${leaks.map((s) => `${s.slice(0, 6)}…`).join(", ")}` : "none leaked") +
          (crashLogged ? "" : "; the failing call was not logged at all (the check would be vacuous)"),
      };
    },
  },
  // Sessions, slow bodies, replay, key guessing, /metrics and scopes (kit-exhaustion-attacks.ts).
  ...KIT_EXHAUSTION_ATTACKS,
];

/** The kit's attacks (auth, rebinding, bodies, paths, batches, logs) and the server's own. */
export function attacksOn(target: ReliabilityTarget): readonly Attack[] {
  return [...ATTACKS, ...(target.attacks ?? [])];
}

export interface AttackReport {
  target: string;
  name: string;
  refused: boolean;
  detail: string;
}

/** Runs every attack against one server; the vitest suite runs the same list, one test each. */
export async function runAttacks(
  target: ReliabilityTarget,
  log: (line: string) => void,
): Promise<AttackReport[]> {
  const ctx = await startAttackServer(target);
  const reports: AttackReport[] = [];
  try {
    for (const attack of attacksOn(target)) {
      let outcome: AttackOutcome;
      try {
        outcome = await attack.run(ctx);
      } catch (err) {
        outcome = { refused: false, detail: `the check failed: ${(err as Error).message}` };
      }
      if (!outcome.refused) log(`attack NOT refused: ${attack.name}: ${outcome.detail}`);
      reports.push({ target: target.name, name: attack.name, ...outcome });
    }
  } finally {
    await ctx.close();
  }
  return reports;
}

/** The outcome of attempts that each had to be refused: refused only when every one was. */
export function refusedAll(
  results: { what: string; isError: boolean; text: string; ok: boolean }[],
): AttackOutcome {
  const through = results.filter((r) => !r.ok);
  return {
    refused: through.length === 0,
    detail: through.length
      ? `not refused: ${through.map((r) => `${r.what} -> ${r.text.slice(0, 120)}`).join("; ")}`
      : `${results.length} attempts refused, e.g. ${results[0]?.what}: ${results[0]?.text.slice(0, 120)}`,
  };
}
