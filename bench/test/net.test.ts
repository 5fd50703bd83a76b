import { createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, listenBesideServerPort } from "../src/lib/net.js";

describe("listenBesideServerPort", () => {
  it("never keeps the --port its process's MCP server was given, even when port 0 hands it out", async () => {
    const reserved = await freePort();
    // A real server whose first listen(0) is steered onto the reserved port: what the kernel did in CI.
    const server = createServer();
    const listen = server.listen.bind(server) as (port: number, host: string, cb: () => void) => void;
    let calls = 0;
    const steered = {
      listen: (port: number, host: string, cb: () => void) =>
        listen(calls++ === 0 ? reserved : port, host, cb),
      address: () => server.address(),
      close: (cb?: () => void) => server.close(cb),
    };
    try {
      const port = await listenBesideServerPort(steered, [
        "node",
        "bin.js",
        "--transport",
        "http",
        "--port",
        String(reserved),
      ]);
      expect(calls).toBe(2);
      expect(port).not.toBe(reserved);
      expect((server.address() as AddressInfo).port).toBe(port);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("listens once when no --port was given (stdio, or the parent process itself)", async () => {
    const server = createServer();
    try {
      const port = await listenBesideServerPort(server, ["node", "bin.js"]);
      expect(port).toBeGreaterThan(0);
      expect((server.address() as AddressInfo).port).toBe(port);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
