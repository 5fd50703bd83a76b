// A loopback TCP proxy in front of Redis that a test can cut and restore: what a Redis outage looks
// like to a server (every connection closed, new ones refused) without stopping the shared Redis.
import { connect, createServer, type AddressInfo, type Socket } from "node:net";

export interface RedisProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /** Closes every connection and refuses new ones. */
  cut: () => void;
  /** Accepts connections again. */
  restore: () => void;
  close: () => Promise<void>;
}

export async function redisProxy(target: URL): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    if (!open) return client.destroy();
    const up = connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, up]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
