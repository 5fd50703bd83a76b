/**
 * Who may reach /mcp, past the origin guard (guards.ts): the caller's credential, its per-principal
 * rate limit, and the scopes a call needs (step-up). Each check answers the refusal itself.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthSuccess } from "@toolshed/auth";
import type { Logger } from "@toolshed/logging";
import { principalFromAuthInfo } from "../principal.js";
import type { Runtime } from "../runtime.js";
import { authInfoFor, principalKey, refuse, scopeRefusal, type HttpAuth } from "./auth.js";
import { rpcError } from "./replies.js";
import { closeAfterResponse } from "./timeouts.js";

/**
 * Admits an /mcp request under `auth`: authenticates it (setting `req.auth`) and takes from its
 * principal's rate limit. Resolves to the principal's key, which owns the sessions it opens, or
 * undefined when a refusal has been sent.
 */
export async function admit(
  rt: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
  auth: HttpAuth,
  path: string,
): Promise<{ owner: string } | undefined> {
  const outcome = await authenticateOrRefuse(req, res, auth, rt.logger, path);
  if (!outcome) return undefined;
  req.auth = authInfoFor(outcome.principal, outcome.expiresAt);
  const owner = principalKey(outcome.principal);
  if (auth.principalLimiter) {
    const taken = await auth.principalLimiter.take(owner);
    if (taken.degraded) rt.logger.warn("rate-limit store degraded; request allowed");
    if (!taken.allowed) {
      closeAfterResponse(req, res);
      res.setHeader("retry-after", String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))));
      rpcError(res, 429, -32029, `rate limit reached; retry in ${Math.ceil(taken.retryAfterMs / 1000)}s`);
      return undefined;
    }
  }
  return { owner };
}

/**
 * Scope step-up (MCP authorization): refuses a request whose call needs a scope its credential
 * lacks, before the call runs, naming the scope to request. True when the refusal has been sent.
 */
export async function refuseMissingScope(
  rt: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
  auth: HttpAuth,
  body: unknown,
): Promise<boolean> {
  if (!req.auth) return false;
  const principal = principalFromAuthInfo(req.auth);
  const refusedScope = await scopeRefusal(body, principal, (name) => rt.toolScopesFor(name, principal));
  if (!refusedScope) return false;
  refuse(res, auth, refusedScope);
  return true;
}

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
