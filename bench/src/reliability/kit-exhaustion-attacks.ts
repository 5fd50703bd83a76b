import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { generateApiKey } from "@toolshed/auth";
import type { Attack, AttackOutcome } from "./types.js";
import { agent, callMessage, initializeMessage, openSession, parseMessages, rawPost } from "./raw-http.js";

// Exhaustion and authorization attacks on the kit's HTTP transport, run against every server:
// hoarding sessions, trickling bodies, replaying another session's events, guessing keys, reading
// /metrics without credentials, and calling a write tool with a read-only key.

/** A GET held open at most `ms`: the status and whatever body arrived by then. */
function getFor(
  port: number,
  path: string,
  headers: Record<string, string>,
  ms: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    let body = "";
    let status = 0;
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET", headers }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => done());
    });
    const timer = setTimeout(() => done(), ms);
    const done = () => {
      clearTimeout(timer);
      req.destroy();
      resolve({ status, body });
    };
    req.on("error", () => done());
    req.end();
  });
}

function del(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/mcp", method: "DELETE", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.setTimeout(5_000, () => req.destroy());
    req.end();
  });
}

/** Tool names and read-only hints from tools/list, as `key` sees them. */
async function listTools(url: string, key: string): Promise<{ name: string; readOnly: boolean }[]> {
  const session = await openSession(url, { "x-api-key": key });
  const res = await rawPost(
    url,
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    session.headers,
  );
  const [msg] = parseMessages(String(res.headers["content-type"] ?? ""), res.body) as {
    result?: { tools?: { name: string; annotations?: { readOnlyHint?: boolean } }[] };
  }[];
  return (msg?.result?.tools ?? []).map((t) => ({
    name: t.name,
    readOnly: t.annotations?.readOnlyHint === true,
  }));
}

export const KIT_EXHAUSTION_ATTACKS: readonly Attack[] = [
  {
    name: "metrics: /metrics without credentials on a server that requires them is refused (401)",
    run: async (ctx) => {
      const open = await getFor(ctx.server.port, "/metrics", {}, 5_000);
      const keyed = await getFor(ctx.server.port, "/metrics", { "x-api-key": ctx.reader }, 5_000);
      return {
        refused: open.status === 401 && !open.body.includes("# HELP") && keyed.status === 200,
        detail: `without credentials HTTP ${open.status}; with a key HTTP ${keyed.status}`,
      };
    },
  },
  {
    name: "scopes: a read-only key cannot list or call a write tool (403 insufficient_scope)",
    run: async (ctx) => {
      const everything = await listTools(ctx.url, ctx.alice);
      const readerSees = await listTools(ctx.url, ctx.reader);
      const readOnly = everything.filter((t) => t.readOnly).map((t) => t.name);
      const writes = everything.filter((t) => !t.readOnly).map((t) => t.name);
      const listedRight =
        readerSees.length === readOnly.length && readerSees.every((t) => readOnly.includes(t.name));
      const session = await openSession(ctx.url, { "x-api-key": ctx.reader });
      const refusals: AttackOutcome[] = [];
      for (const [i, name] of writes.entries()) {
        const res = await rawPost(ctx.url, callMessage(100 + i, name, {}), session.headers);
        const challenge = String(res.headers["www-authenticate"] ?? "");
        refusals.push({
          refused: res.status === 403 && /insufficient_scope/.test(challenge) && !/"result"/.test(res.body),
          detail: `${name}: HTTP ${res.status} ${challenge.slice(0, 120)}`,
        });
      }
      return {
        refused: everything.length > 0 && listedRight && refusals.every((r) => r.refused),
        detail:
          `reader lists ${readerSees.length} of ${everything.length} tools (${readOnly.length} read-only); ` +
          (writes.length ? refusals.map((r) => r.detail).join("; ") : "no write tools on this server"),
      };
    },
  },
  {
    name: "session hoarding: one principal cannot take every session slot (429), another still gets in",
    run: async (ctx) => {
      const pool = agent(8);
      const opened: Record<string, string>[] = [];
      let refusal: { status: number; body: string; retryAfter: unknown } | undefined;
      try {
        // The cap per principal is 100 by default, far under the 1,000 sessions in all.
        for (let i = 0; i < 150 && !refusal; i++) {
          const res = await rawPost(ctx.url, initializeMessage(), { "x-api-key": ctx.alice }, pool);
          const sid = res.headers["mcp-session-id"];
          if (res.status === 200 && typeof sid === "string") {
            opened.push({
              "x-api-key": ctx.alice,
              "mcp-session-id": sid,
              "mcp-protocol-version": "2025-06-18",
            });
          } else {
            refusal = { status: res.status, body: res.body, retryAfter: res.headers["retry-after"] };
          }
        }
        const bobGetsIn = await openSession(ctx.url, { "x-api-key": ctx.bob }).then(
          () => true,
          () => false,
        );
        return {
          refused:
            refusal?.status === 429 &&
            Number(refusal.retryAfter) > 0 &&
            /DELETE/.test(refusal.body) &&
            bobGetsIn,
          detail: `${opened.length} sessions opened, then HTTP ${refusal?.status ?? "none"} ${refusal?.body.slice(0, 140) ?? ""}; bob ${bobGetsIn ? "got in" : "was locked out"}`,
        };
      } finally {
        for (const headers of opened) await del(ctx.server.port, headers);
        await pool.close();
      }
    },
  },
  {
    name: "slowloris: a body trickled in after a 401 is cut off, the connection closed at once",
    run: async (ctx) => {
      const started = Date.now();
      const outcome = await new Promise<{ text: string; closedAfterMs: number | undefined }>((resolve) => {
        const socket = connect(ctx.server.port, "127.0.0.1");
        let text = "";
        let closedAfterMs: number | undefined;
        socket.setEncoding("utf8");
        socket.on("data", (c: string) => (text += c));
        socket.on("error", () => {});
        const drip = setInterval(() => socket.write(" "), 250);
        const finish = () => {
          clearInterval(drip);
          clearTimeout(limit);
          socket.destroy();
          resolve({ text, closedAfterMs });
        };
        // Well past the kit's 10 s header and 30 s body deadlines would be too slow here: the
        // refusal must close the connection without waiting for the body at all.
        const limit = setTimeout(finish, 8_000);
        socket.on("close", () => {
          closedAfterMs = Date.now() - started;
          finish();
        });
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${ctx.server.port}\r\nContent-Type: application/json\r\n` +
            `Accept: application/json, text/event-stream\r\nContent-Length: 100000\r\n\r\n{`,
        );
      });
      return {
        refused:
          /^HTTP\/1\.1 401/.test(outcome.text) &&
          outcome.closedAfterMs !== undefined &&
          outcome.closedAfterMs < 3_000,
        detail: `${outcome.text.split("\r\n")[0] ?? "no answer"}; connection ${outcome.closedAfterMs === undefined ? "still open after 8 s" : `closed after ${outcome.closedAfterMs} ms`}`,
      };
    },
  },
  {
    name: "stream replay: another session's Last-Event-ID (and _GET_stream_0) replays nothing",
    run: async (ctx) => {
      const alice = await openSession(ctx.url, { "x-api-key": ctx.alice });
      const safe = ctx.target.safeCalls[0]!;
      const call = await rawPost(ctx.url, callMessage(7, safe.name, safe.arguments), alice.headers);
      const ids = [...call.body.matchAll(/^id: ?(.+)$/gm)].map((m) => m[1]!.trim());
      const lastId = ids.at(-1);
      if (!lastId)
        return { refused: false, detail: `the call's stream carried no event id (HTTP ${call.status})` };
      const outcomes: AttackOutcome[] = [];
      for (const key of [ctx.bob, ctx.alice]) {
        const other = await openSession(ctx.url, { "x-api-key": key });
        for (const id of [lastId, "_GET_stream_0", "_GET_stream_1"]) {
          const res = await getFor(
            ctx.server.port,
            "/mcp",
            { ...other.headers, accept: "text/event-stream", "last-event-id": id },
            3_000,
          );
          outcomes.push({
            refused: res.status >= 400 && !res.body.includes('"result"'),
            detail: `${key === ctx.bob ? "bob" : "alice's 2nd session"} with ${id.slice(0, 60)}: HTTP ${res.status}`,
          });
        }
      }
      return { refused: outcomes.every((o) => o.refused), detail: outcomes.map((o) => o.detail).join("; ") };
    },
  },
  {
    // Last on purpose: it empties this address's failed-auth bucket (it refills in seconds).
    name: "brute force: wrong API keys in a row get 429 with Retry-After, and the address recovers",
    run: async (ctx) => {
      const statuses: number[] = [];
      let retryAfter = 0;
      for (let i = 0; i < 80 && !retryAfter; i++) {
        const wrong = generateApiKey();
        ctx.secrets.push(wrong);
        const res = await rawPost(ctx.url, initializeMessage(), { "x-api-key": wrong });
        statuses.push(res.status);
        if (res.status === 429) retryAfter = Number(res.headers["retry-after"]);
      }
      const blockedValid = await rawPost(ctx.url, initializeMessage(), { "x-api-key": ctx.alice });
      if (retryAfter > 0 && retryAfter < 30) await new Promise((r) => setTimeout(r, retryAfter * 1000 + 200));
      const after = await rawPost(ctx.url, initializeMessage(), { "x-api-key": ctx.alice });
      return {
        refused:
          retryAfter > 0 &&
          statuses.slice(0, -1).every((s) => s === 401) &&
          blockedValid.status === 429 &&
          after.status === 200,
        detail: `${statuses.length} wrong keys: ${statuses.filter((s) => s === 401).length}x401 then ${statuses.at(-1)} (Retry-After ${retryAfter}); a valid key while blocked: HTTP ${blockedValid.status}; after the wait: HTTP ${after.status}`,
      };
    },
  },
];
