import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { FaultResult } from "./faults.js";
import { connectClients } from "./load.js";
import { startServer } from "./processes.js";
import type { ReliabilityTarget } from "./types.js";

/** One way an upstream fails, served at `/<name>` by the chaos server. */
interface Misbehaviour {
  name: string;
  serve(req: IncomingMessage, res: ServerResponse, socket: Socket): void;
}

/** Cut-offs a download must enforce on its own (the target is started with a 1 MiB cap). */
export const CHAOS_MAX_BYTES = 1024 * 1024;

const MISBEHAVIOURS: Misbehaviour[] = [
  {
    name: "http-500.csv",
    serve: (_q, res) => void res.writeHead(500, { "content-type": "text/plain" }).end("boom"),
  },
  {
    name: "http-503-retry-after.csv",
    serve: (_q, res) => void res.writeHead(503, { "retry-after": "1" }).end("maintenance"),
  },
  {
    name: "http-429.csv",
    serve: (_q, res) => void res.writeHead(429, { "retry-after": "1" }).end("slow down"),
  },
  { name: "reset.csv", serve: (_q, _r, socket) => socket.destroy() },
  {
    name: "reset-mid-body.csv",
    serve: (_q, res, socket) => {
      res.writeHead(200, { "content-type": "text/csv", "content-length": "100000" });
      res.write("a,b\n1,2\n");
      setTimeout(() => socket.destroy(), 20);
    },
  },
  {
    name: "short-body.csv",
    serve: (_q, res, socket) => {
      // Declares more than it sends, then closes: a truncated download must not be loaded.
      socket.end("HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: 5000\r\n\r\na,b\n1,2\n");
      void res;
    },
  },
  { name: "never-answers.csv", serve: () => undefined },
  {
    name: "headers-then-silence.csv",
    serve: (_q, res) => {
      res.writeHead(200, { "content-type": "text/csv" });
      res.write("a,b\n");
    },
  },
  {
    name: "endless.csv",
    serve: (_q, res) => {
      res.writeHead(200, { "content-type": "text/csv" });
      const chunk = Buffer.from("1,2\n".repeat(16_384));
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    },
  },
  {
    name: "garbage.csv",
    serve: (_q, res) => {
      res.writeHead(200, { "content-type": "text/csv" });
      res.end(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    },
  },
  {
    name: "redirect-loop.csv",
    serve: (q, res) => void res.writeHead(302, { location: q.url ?? "/" }).end(),
  },
  {
    name: "redirect-to-metadata.csv",
    serve: (_q, res) =>
      void res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end(),
  },
  {
    name: "wrong-content-type.csv",
    serve: (_q, res) =>
      void res.writeHead(200, { "content-type": "text/html" }).end("<html><body>login</body></html>"),
  },
];

/** How long one call may take before the fault counts it as hanging (the client then cancels it). */
const CALL_LIMIT_MS = 8_000;

/**
 * An upstream that fails in every way, behind a server's URL-taking tool: each call ends (an error
 * result, or a result) within CALL_LIMIT_MS or is cancelled by the client, and after every one the
 * server still answers a safe call. The upstream counts the requests it saw (the retries).
 */
export async function upstreamChaos(target: ReliabilityTarget): Promise<FaultResult> {
  const spec = target.upstream;
  if (!spec) throw new Error(`${target.name} has no URL-taking tool`);
  const hits = new Map<string, number>();
  // One origin per misbehaviour: the client's circuit breaker is per origin, so one failing
  // upstream must not stop the next from being tried (the breaker is checked on its own below).
  const upstreams = await Promise.all(
    MISBEHAVIOURS.map(async (m) => {
      const upstream = createServer((req, res) => {
        hits.set(m.name, (hits.get(m.name) ?? 0) + 1);
        m.serve(req, res, req.socket);
      });
      await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
      return { m, upstream, base: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/chaos/` };
    }),
  );
  const server = await startServer(target, {
    args: upstreams.flatMap((u) => spec.args(u.base, CHAOS_MAX_BYTES)),
  });
  const outcomes: Record<string, string> = {};
  let hung = 0;
  let unanswered = 0;
  let deadAfter = 0;
  let breakerOpened = false;
  try {
    const [client] = await connectClients(`${server.base}/mcp`, 1);
    let i = 0;
    const attempt = async (url: string) => {
      const started = Date.now();
      try {
        const r = await client!.callTool(spec.call(url, i++), undefined, { timeout: CALL_LIMIT_MS });
        const text = (r.content as { text?: string }[]).map((c) => c.text ?? "").join(" ");
        if (!r.isError) unanswered++; // every one of these must fail
        return `${r.isError ? "error" : "result"} in ${Date.now() - started} ms: ${text.slice(0, 160)}`;
      } catch (err) {
        const message = (err as Error).message;
        if (/timed out|timeout/i.test(message)) hung++;
        else unanswered++;
        return `no answer (${message.slice(0, 100)}) after ${Date.now() - started} ms`;
      }
    };
    const alive = () =>
      client!
        .callTool(target.safeCalls[0]!, undefined, { timeout: 5_000 })
        .then((r) => !r.isError)
        .catch(() => false);
    for (const { m, base } of upstreams) {
      outcomes[m.name] = await attempt(`${base}${m.name}`);
      if (!(await alive())) deadAfter++;
    }
    // The same failing origin again and again: the breaker opens and answers fail fast.
    const failing = upstreams[0]!;
    let last = "";
    for (let n = 0; n < 6; n++) last = await attempt(`${failing.base}${failing.m.name}`);
    breakerOpened = /circuit breaker open/.test(last);
    outcomes["breaker (the first origin, six more times)"] = last;
    await client!.close();
  } finally {
    await server.stop("SIGTERM");
    for (const { upstream } of upstreams) {
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  }
  const crashed = server.exit()?.code !== 0 && server.exit()?.signal !== "SIGTERM";
  return {
    name: "upstream fails in every way",
    target: target.name,
    passed: !crashed && hung === 0 && unanswered === 0 && deadAfter === 0 && breakerOpened,
    crashes: crashed ? 1 : 0,
    details: {
      misbehaviours: MISBEHAVIOURS.length,
      calls_hung: hung,
      calls_not_refused: unanswered,
      server_unresponsive_after: deadAfter,
      breaker_opened: breakerOpened,
      upstream_requests: [...hits.values()].reduce((a, b) => a + b, 0),
      ...Object.fromEntries(
        MISBEHAVIOURS.map((m) => [
          `${m.name} (${hits.get(m.name) ?? 0} requests)`,
          outcomes[m.name] ?? "not run",
        ]),
      ),
    },
  };
}
