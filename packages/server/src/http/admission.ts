import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthSuccess } from "@toolshed/auth";
import type { Logger } from "@toolshed/logging";
import { refuse, type HttpAuth } from "./auth.js";
import { closeAfterResponse } from "./timeouts.js";

/**
 * Authenticates a request, refusing it (and counting the failure) when the credential is missing or
 * bad, or the address is blocked for failing too often. Resolves to the success, or undefined when
 * the answer has been sent.
 */
export async function authenticateOrRefuse(
  req: IncomingMessage,
  res: ServerResponse,
  auth: HttpAuth,
  log: Logger,
  path: string,
): Promise<AuthSuccess | undefined> {
  const address = req.socket.remoteAddress ?? "unknown";
  const failures = auth.failureLimiter;
  const blocked = failures?.blockedFor(address) ?? 0;
  if (blocked) {
    tooManyFailures(req, res, blocked);
    return undefined;
  }
  const outcome = await auth.authenticator.authenticate(req.headers);
  if (outcome.ok) return outcome;
  log.info({ status: outcome.status, error: outcome.error, path }, "request refused by auth");
  if (failures && !outcome.missing && !outcome.retryable) {
    const wait = await failures.failed(address);
    if (wait) {
      log.warn(
        { address, path },
        "too many failed authentications from one address; refusing it for a while",
      );
      tooManyFailures(req, res, wait);
      return undefined;
    }
  }
  closeAfterResponse(req, res);
  refuse(res, auth, outcome);
  return undefined;
}

function tooManyFailures(req: IncomingMessage, res: ServerResponse, waitMs: number): void {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  closeAfterResponse(req, res);
  res.setHeader("retry-after", String(seconds));
  res.writeHead(429, { "content-type": "application/json" }).end(
    JSON.stringify({
      jsonrpc: "2.0",
      error: {
        code: -32029,
        message: `too many failed authentications from this address; retry in ${seconds}s with a valid credential`,
      },
      id: null,
    }),
  );
}
