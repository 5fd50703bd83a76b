import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { listenBesideServerPort } from "../lib/net.js";
import { delayMarkedRequests } from "./slow-upstream.js";

/** One recorded exchange of servers/github/test/fixtures (the @octokit/fixtures shape). */
interface Recording {
  method: string;
  path: string;
  status: number;
  response?: unknown;
}

/** servers/github's own recordings; same depth in src/ and dist/, so the path holds for both. */
function recordings(name: string): Recording[] {
  const file = new URL(
    `../../node_modules/@toolshed/server-github/test/fixtures/${name}.json`,
    import.meta.url,
  );
  return JSON.parse(readFileSync(file, "utf8")) as Recording[];
}

/**
 * A GitHub REST API on loopback for the reliability suites, answering GETs from the github server's
 * recorded fixtures (octo-org/widgets: the repository, issues 3 and 4 with comments and sub-issues,
 * /user, repository and user search; any search query gets the recorded page) and 404 like GitHub
 * for everything else. A repository named `slow-<ms>` is octo-org/widgets answered that much later
 * (slow-upstream.ts): `get_issue` on `octo-org/slow-1500` #3 takes about 1.5 s and succeeds.
 */
export async function startLoopbackGitHub(): Promise<{ url: string; close(): Promise<void> }> {
  const routes = new Map<string, Recording>();
  for (const rec of [...recordings("issues"), ...recordings("repos")]) {
    if (rec.method.toLowerCase() !== "get") continue;
    const [path] = rec.path.split("?");
    // Search recordings answer any query; the others their exact path.
    routes.set(path!, rec);
  }
  const server = createServer((req, res) => {
    const path = (req.url ?? "/")
      .split("?")[0]!
      .replace(/^\/repos\/([^/]+)\/slow-\d+(?=\/|$)/, "/repos/$1/widgets");
    const rec = req.method === "GET" ? routes.get(path) : undefined;
    res.writeHead(rec?.status ?? 404, { "content-type": "application/json; charset=utf-8" });
    res.end(
      JSON.stringify(
        rec?.response ?? {
          message: "Not Found",
          documentation_url: "https://docs.github.com/rest",
          status: "404",
        },
      ),
    );
  });
  delayMarkedRequests(server);
  const port = await listenBesideServerPort(server); // in the wrapper, never the MCP server's own --port
  server.unref(); // never what keeps a process alive: in the wrapper, the server's shutdown decides
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
