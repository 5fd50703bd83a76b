import { answerKey, FuzzCorpus, type FuzzKind, type FuzzMessage } from "./fuzz-corpus.js";
import type { FuzzPlan, FuzzResult } from "./fuzz-stdio.js";
import { Prng } from "./prng.js";
import { httpGet, startServer } from "./processes.js";
import { agent, openSession, parseMessages, rawPost, rawRequest, type RawResponse } from "./raw-http.js";
import type { ReliabilityTarget } from "./types.js";

/**
 * Raw POSTs of the same hostile corpus into a real session (after initialize): every POST must get
 * an HTTP response, and every valid request in one must be answered with its id or a JSON-RPC error.
 */
export async function fuzzHttp(
  target: ReliabilityTarget,
  plan: FuzzPlan,
  log: (line: string) => void = () => {},
): Promise<FuzzResult> {
  const server = await startServer(target);
  const dispatcher = agent(plan.concurrency);
  const url = `${server.base}/mcp`;
  try {
    const session = await openSession(url, {}, dispatcher);
    const corpus = new FuzzCorpus(new Prng(plan.seed), target.safeCalls);
    const byKind: Partial<Record<FuzzKind, number>> = {};
    const statuses: Record<string, number> = {};
    const examples: string[] = [];
    let sent = 0;
    let bytes = 0;
    let expected = 0;
    let unanswered = 0;
    let noResponse = 0;
    const oversizedAt = Math.floor(plan.messages / 2);
    const deadline = Date.now() + plan.timeMs;
    const started = performance.now();

    const inflight = new Map<number, { msg: FuzzMessage; at: number }>();
    const stuck = () => {
      const old = [...inflight.values()].filter((f) => Date.now() - f.at > 3_000);
      return old.length ? `; ${old.length} POSTs waiting > 3 s, e.g. ${preview(old[0]!.msg)}` : "";
    };
    const check = (msg: FuzzMessage, res: RawResponse) => {
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 0) {
        noResponse++;
        unanswered++;
        if (examples.length < 5) examples.push(`no response (${res.error}): ${preview(msg)}`);
        return;
      }
      if (msg.expect === undefined) return;
      expected++;
      const answered = res.messages.some(
        (m) =>
          answerKey(m) === msg.expect ||
          (res.status >= 400 && typeof m === "object" && m !== null && "error" in m),
      );
      if (!answered) {
        unanswered++;
        if (examples.length < 5)
          examples.push(`HTTP ${res.status} ${res.body.slice(0, 120)} for ${preview(msg)}`);
      }
    };
    const worker = async () => {
      while (sent < plan.messages && Date.now() < deadline && !server.exit()) {
        const index = sent++;
        const msg =
          index === oversizedAt && plan.oversizedBytes > 0
            ? corpus.oversized(plan.oversizedBytes)
            : corpus.next();
        byKind[msg.kind] = (byKind[msg.kind] ?? 0) + 1;
        bytes += msg.bytes.length;
        inflight.set(index, { msg, at: Date.now() });
        check(
          msg,
          msg.kind === "oversized"
            ? await postOversized(server.port, msg.bytes.length, session.headers)
            : await rawPost(url, msg.bytes, session.headers, dispatcher),
        );
        inflight.delete(index);
      }
    };
    const progress = setInterval(
      () => log(`fuzz http ${target.name}: ${sent} sent, ${unanswered} unanswered${stuck()}`),
      5_000,
    );
    try {
      await Promise.all(Array.from({ length: plan.concurrency }, worker));
    } finally {
      clearInterval(progress);
    }
    const seconds = (performance.now() - started) / 1000;
    const crashed = server.exit() !== undefined;
    const health = await httpGet(server.base, "/healthz");
    const echo = await rawPost(
      url,
      JSON.stringify({ jsonrpc: "2.0", id: "final", method: "tools/call", params: target.safeCalls[0] }),
      session.headers,
      dispatcher,
    );
    const alive = !crashed && health.status === 200 && echo.messages.some((m) => answerKey(m) === '"final"');
    const exit = await server.stop("SIGTERM", 10_000);
    return {
      transport: "http",
      target: target.name,
      seed: plan.seed,
      messages_planned: plan.messages,
      messages_sent: sent,
      bytes_sent: bytes,
      seconds: Math.round(seconds * 100) / 100,
      messages_per_s: Math.round(sent / seconds),
      requests_expecting_answer: expected,
      unanswered_requests: unanswered,
      posts_without_response: noResponse,
      stdout_lines: 0,
      stdout_non_protocol_bytes: server.stdoutBytes(),
      crashes: crashed || exit.code !== 0 ? 1 : 0,
      exit_code: exit.code,
      alive_after: alive,
      by_kind: byKind,
      statuses,
      unanswered_examples: examples,
    };
  } finally {
    await server.stop("SIGKILL");
    await dispatcher.close();
  }
}

function preview(msg: FuzzMessage): string {
  return `${msg.kind} ${msg.bytes.subarray(0, 100).toString("utf8")}`;
}

/**
 * The over-cap body announced by Content-Length with only its first bytes sent: the server answers
 * 413 before reading it. (Sending all of it races the server's close of the socket, and the client
 * then sees a reset instead of the 413 it was sent.)
 */
async function postOversized(
  port: number,
  length: number,
  headers: Record<string, string>,
): Promise<RawResponse> {
  const lines = Object.entries({
    ...headers,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  const res = await rawRequest(
    port,
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${lines}Content-Length: ${length}\r\n\r\n{"jsonrpc":"2.0",`,
  );
  const body = res.body.trim();
  return { status: res.status, headers: {}, body, messages: parseMessages("application/json", body) };
}
