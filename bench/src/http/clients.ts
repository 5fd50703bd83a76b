import { createHttpClient } from "@toolshed/http-client";
import { Agent, request } from "undici";

export type ClientName = "toolshed" | "undici" | "fetch";
export const CLIENTS: readonly ClientName[] = ["toolshed", "undici", "fetch"];

/** One way to GET the document and decode its JSON; `call` throws if the answer is wrong. */
export interface BenchClient {
  readonly name: ClientName;
  call(): Promise<void>;
  close(): Promise<void>;
}

const PATH = "/repos/octocat/hello-world";

function check(data: unknown, who: ClientName): void {
  if ((data as { ok?: unknown } | null)?.ok !== true) {
    throw new Error(`${who}: unexpected answer ${JSON.stringify(data).slice(0, 200)}`);
  }
}

/**
 * The three clients, each with its own keep-alive pool to the same upstream:
 * - toolshed: `@toolshed/http-client` with its defaults (retries, breaker, concurrency limit, size cap,
 *   SSRF guard on; loopback allowed) and the concurrency limit at the load's level;
 * - undici: `undici.request` on a dedicated Agent, `body.json()`: the floor under our client;
 * - fetch: Node's global `fetch` and `res.json()`.
 */
export function createClient(name: ClientName, baseUrl: string, concurrency: number): BenchClient {
  const url = baseUrl + PATH;
  switch (name) {
    case "toolshed": {
      const client = createHttpClient({ name: "bench", baseUrl, allowPrivateNetwork: true, concurrency });
      return {
        name,
        async call() {
          const res = await client.get(PATH);
          check(res.data, name);
        },
        close: () => client.close(),
      };
    }
    case "undici": {
      const agent = new Agent();
      return {
        name,
        async call() {
          const res = await request(url, { dispatcher: agent });
          if (res.statusCode !== 200) throw new Error(`undici: HTTP ${res.statusCode}`);
          check(await res.body.json(), name);
        },
        close: () => agent.close(),
      };
    }
    case "fetch":
      return {
        name,
        async call() {
          const res = await fetch(url);
          if (res.status !== 200) throw new Error(`fetch: HTTP ${res.status}`);
          check(await res.json(), name);
        },
        close: async () => {},
      };
  }
}
