import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";

export type JwksMode = "ok" | "error" | "hang";

export interface JwksServer {
  /** http://127.0.0.1:<port>/jwks.json */
  readonly jwksUrl: string;
  /** GET /jwks.json requests answered so far (any mode). */
  readonly requests: number;
  setKeys(keys: JWK[]): void;
  setMode(mode: JwksMode): void;
  close(): Promise<void>;
}

/** A loopback JWKS endpoint; stops itself after a minute if a test forgets to. */
export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let current = keys;
  let mode: JwksMode = "ok";
  let requests = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== "/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    requests += 1;
    if (mode === "hang") return; // never answers; closed by close()
    if (mode === "error") {
      res.writeHead(500, { "content-type": "text/plain" }).end("boom");
      return;
    }
    res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify({ keys: current }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  setTimeout(() => void close(), 60_000).unref();
  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    get requests() {
      return requests;
    },
    setKeys: (next) => {
      current = next;
    },
    setMode: (next) => {
      mode = next;
    },
    close,
  };
}
