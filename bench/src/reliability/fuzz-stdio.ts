import { JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { answerKey, FuzzCorpus, type FuzzKind } from "./fuzz-corpus.js";
import { Prng } from "./prng.js";
import { initializeMessage } from "./raw-http.js";
import { sleep, startServer, withTimeout } from "./processes.js";
import type { ReliabilityTarget } from "./types.js";

/** The kit's default largest message (`--max-body-bytes`), for stdio lines as for HTTP bodies. */
const KIT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface FuzzPlan {
  messages: number;
  timeMs: number;
  seed: number;
  /** Size of the one oversized message (stdio: a 10 MB line; HTTP: over the body cap). */
  oversizedBytes: number;
  /** HTTP only: POSTs in flight. */
  concurrency: number;
}

export interface FuzzResult {
  transport: "stdio" | "http";
  target: string;
  seed: number;
  /** The count the plan asked for: a run that stopped on its time bound sent fewer. */
  messages_planned: number;
  messages_sent: number;
  bytes_sent: number;
  seconds: number;
  messages_per_s: number;
  requests_expecting_answer: number;
  unanswered_requests: number;
  /** HTTP: POSTs that got no HTTP response at all (included in unanswered_requests). */
  posts_without_response: number;
  stdout_lines: number;
  stdout_non_protocol_bytes: number;
  crashes: number;
  /** Exit after we closed stdin / sent SIGTERM: 0 expected. */
  exit_code: number | null;
  alive_after: boolean;
  by_kind: Partial<Record<FuzzKind, number>>;
  /** HTTP status counts. */
  statuses?: Record<string, number>;
  unanswered_examples: string[];
}

const ANSWER_DRAIN_MS = 15_000;
const MAX_OUTSTANDING = 4_000;

/**
 * Raw newline-delimited JSON-RPC into a stdio server's stdin, every stdout line checked: it must
 * be a JSON-RPC message, and every valid request must be answered with its id.
 */
export async function fuzzStdio(target: ReliabilityTarget, plan: FuzzPlan): Promise<FuzzResult> {
  const server = await startServer(target, { stdio: true });
  const stdin = server.child.stdin!;
  stdin.on("error", () => {}); // a dead server shows up as a crash, not an EPIPE throw
  const outstanding = new Map<string, number>();
  const examples = new Map<string, string>();
  let lines = 0;
  let nonProtocol = 0;
  let partial = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  const onLine = (line: Buffer) => {
    if (line.length === 0) return;
    lines++;
    let message: unknown;
    try {
      message = JSON.parse(line.toString("utf8"));
    } catch {
      nonProtocol += line.length + 1;
      return;
    }
    if (!JSONRPCMessageSchema.safeParse(message).success) {
      nonProtocol += line.length + 1;
      return;
    }
    const key = answerKey(message);
    if (key !== undefined) {
      const n = outstanding.get(key);
      if (n !== undefined) {
        if (n <= 1) {
          outstanding.delete(key);
          examples.delete(key);
        } else outstanding.set(key, n - 1);
        waiter?.();
      }
    }
  };
  server.child.stdout!.on("data", (chunk: Buffer) => {
    let data = partial.length ? Buffer.concat([partial, chunk]) : chunk;
    let nl: number;
    while ((nl = data.indexOf(0x0a)) !== -1) {
      onLine(data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    partial = Buffer.from(data);
  });
  let expected = 0;
  const expect = (key: string, text: Buffer) => {
    expected++;
    outstanding.set(key, (outstanding.get(key) ?? 0) + 1);
    if (examples.size < 50) examples.set(key, text.subarray(0, 160).toString("utf8"));
  };
  const write = async (bytes: Buffer) => {
    stdin.write(bytes);
    if (!stdin.write("\n")) {
      await Promise.race([new Promise((r) => stdin.once("drain", r)), server.exited, sleep(5_000)]);
    }
  };
  const waitFor = async (done: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline && !server.exit()) {
      await Promise.race([new Promise<void>((r) => (waiter = r)), sleep(100)]);
    }
  };

  const init = Buffer.from(initializeMessage("init"));
  expect('"init"', init);
  await write(init);
  await withTimeout(
    (async () => waitFor(() => !outstanding.has('"init"'), 15_000))(),
    16_000,
    `${target.name} stdio did not initialize`,
  );
  await write(Buffer.from(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })));

  const corpus = new FuzzCorpus(new Prng(plan.seed), target.safeCalls);
  const byKind: Partial<Record<FuzzKind, number>> = {};
  const started = performance.now();
  const deadline = Date.now() + plan.timeMs;
  const oversizedAt = Math.floor(plan.messages / 2);
  let sent = 0;
  let bytes = 0;
  while (sent < plan.messages && Date.now() < deadline && !server.exit()) {
    const msg =
      sent === oversizedAt && plan.oversizedBytes > 0 ? corpus.oversized(plan.oversizedBytes) : corpus.next();
    // A message over the kit's cap cannot be parsed, so it is answered with -32600 and no id.
    if (msg.kind === "oversized" && msg.bytes.length > KIT_MAX_MESSAGE_BYTES) expect("null", msg.bytes);
    else if (msg.expect !== undefined) expect(msg.expect, msg.bytes);
    byKind[msg.kind] = (byKind[msg.kind] ?? 0) + 1;
    await write(msg.bytes);
    sent++;
    bytes += msg.bytes.length + 1;
    if (outstanding.size > MAX_OUTSTANDING)
      await waitFor(() => outstanding.size < MAX_OUTSTANDING / 2, 10_000);
  }
  await waitFor(() => outstanding.size === 0, ANSWER_DRAIN_MS);
  const seconds = (performance.now() - started) / 1000;
  const crashed = server.exit() !== undefined;
  // Alive: a final ping is still answered.
  const ping = Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: "final-ping", method: "ping" }));
  expect('"final-ping"', ping);
  if (!crashed) await write(ping);
  await waitFor(() => !outstanding.has('"final-ping"'), 5_000);
  const alive = !crashed && !outstanding.has('"final-ping"');
  outstanding.delete('"final-ping"');
  stdin.end();
  const exit = await Promise.race([server.exited, sleep(10_000).then(() => undefined)]);
  if (!exit) await server.stop("SIGKILL");
  if (partial.length) onLine(partial);
  let unanswered = 0;
  for (const n of outstanding.values()) unanswered += n;
  return {
    transport: "stdio",
    target: target.name,
    seed: plan.seed,
    messages_planned: plan.messages,
    messages_sent: sent,
    bytes_sent: bytes,
    seconds: Math.round(seconds * 100) / 100,
    messages_per_s: Math.round(sent / seconds),
    requests_expecting_answer: expected,
    unanswered_requests: unanswered,
    posts_without_response: 0,
    stdout_lines: lines,
    stdout_non_protocol_bytes: nonProtocol,
    crashes: crashed || !exit || exit.code !== 0 ? 1 : 0,
    exit_code: exit?.code ?? null,
    alive_after: alive,
    by_kind: byKind,
    unanswered_examples: [...examples.values()].slice(0, 5),
  };
}
