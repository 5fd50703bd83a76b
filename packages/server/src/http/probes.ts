/**
 * The routes beside /mcp that orchestrators and scrapers call: /healthz and /readyz (answered before
 * any guard, so a probe never needs a Host header or a credential) and /metrics (behind the guards,
 * and behind auth when it is on, unless metrics are public).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Runtime } from "../runtime.js";
import { authenticateOrRefuse } from "./admission.js";
import type { HttpAuth } from "./auth.js";
import { json } from "./replies.js";

/** How long a /metrics scrape waits for readiness before reporting not ready. */
const SCRAPE_READINESS_MS = 1_000;

/**
 * A scrape does not wait for a slow setup (a database seeding) or a hung check: toolshed_ready
 * reads 0 until readiness answers within the bound, and /metrics itself answers at once.
 */
export function boundScrapeReadiness(rt: Runtime): void {
  rt.metrics.setReadinessCheck(async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), SCRAPE_READINESS_MS);
    });
    const verdict = rt.readiness().then((r) => r.ready);
    return Promise.race([verdict, late]).finally(() => clearTimeout(timer));
  });
}

/** Whether `path` is a probe (/healthz, /readyz); a probe's refusals are not counted as refusals. */
export function isProbe(path: string): path is "/healthz" | "/readyz" {
  return path === "/healthz" || path === "/readyz";
}

/**
 * Answers a probe: /healthz (the process is up), /readyz (setup has succeeded, every readiness check
 * passes and shutdown has not begun; else 503 with the reason).
 */
export async function answerProbe(
  rt: Runtime,
  path: "/healthz" | "/readyz",
  res: ServerResponse,
): Promise<void> {
  if (path === "/healthz") return json(res, 200, { status: "ok" });
  const r = await rt.readiness();
  json(res, r.ready ? 200 : 503, r.ready ? { status: "ready" } : { status: "not ready", reason: r.reason });
}

/** GET /metrics. `auth` is the auth it needs: undefined when auth is off or metrics are public. */
export async function serveMetrics(
  rt: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
  auth: HttpAuth | undefined,
): Promise<void> {
  if (auth && !(await authenticateOrRefuse(req, res, auth, rt.logger, "/metrics"))) return;
  const text = await rt.metrics.render();
  res.writeHead(200, { "content-type": rt.metrics.contentType }).end(text);
}
