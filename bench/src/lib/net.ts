import { connect, createServer, type AddressInfo } from "node:net";

/** A port free on 127.0.0.1 right now (another process may still take it before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:port; throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Listens `server` on a free loopback port that is not the `--port` this process was started with.
 * An upstream started inside a server's wrapper process (example-api-with-upstream, github-with-upstream)
 * listens before the server does; the parent picked that `--port` with `freePort()` and released it, so
 * port 0 may hand the upstream exactly that port, and the parent would then reach the upstream instead
 * of the MCP server (CI saw "no route POST /mcp"). Returns the port.
 */
export async function listenBesideServerPort(
  server: {
    listen(port: number, host: string, cb: () => void): unknown;
    address(): unknown;
    close(cb?: () => void): unknown;
  },
  argv: readonly string[] = process.argv,
): Promise<number> {
  const at = argv.indexOf("--port");
  const reserved = at >= 0 ? Number(argv[at + 1]) : NaN;
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    if (port !== reserved) return port;
    if (attempt >= 10) throw new Error(`port 0 kept returning the server's own port ${reserved}`);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
