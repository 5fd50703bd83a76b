// data-analytics: attacks on its own domain (writes through the read-only query, SSRF and traversal
// through register_dataset). The engine-specific ones are duckdb-attacks.ts and postgres-attacks.ts.
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refusedAll } from "./attacks.js";
import type { Attack } from "./types.js";
import { callTool, openSession } from "./raw-http.js";

/**
 * data-analytics: writes through `query` in its read-only mode, and SSRF / path traversal through
 * `register_dataset` (the attack server runs with `--allow-url https://data.example.org/public/`).
 */
export const dataAnalyticsAttacks: readonly Attack[] = [
  {
    name: "SQL writes in read-only mode: INSERT, UPDATE, DELETE, DROP, CREATE, COPY TO, ATTACH, INSTALL, LOAD, SET, PRAGMA are refused",
    run: async (ctx) => {
      const session = await openSession(ctx.url, { "x-api-key": ctx.alice });
      const marker = join(tmpdir(), `toolshed-pwned-${process.pid}-${Date.now()}`);
      const statements = [
        "INSERT INTO _toolshed_datasets VALUES ('x', 'x', 'x', 1, '[]', now())",
        "UPDATE _toolshed_datasets SET row_count = 0",
        "DELETE FROM _toolshed_datasets",
        "DROP TABLE _toolshed_datasets",
        "CREATE TABLE pwned AS SELECT 1",
        `COPY (SELECT 1) TO '${marker}.csv'`,
        `SELECT 1; COPY (SELECT 1) TO '${marker}-2.csv'`,
        `ATTACH '${marker}.duckdb' AS evil`,
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "PRAGMA enable_profiling",
        "SELECT * FROM read_csv('/etc/passwd')",
        "WITH x AS (SELECT 1) INSERT INTO pwned SELECT * FROM x",
      ];
      const results = [];
      let id = 100;
      for (const sql of statements) {
        const r = await callTool(ctx.url, session.headers, id++, "query", { sql });
        results.push({
          what: sql,
          ...r,
          ok: r.isError && /not allowed|not read-only|does not parse/.test(r.text),
        });
      }
      const stillThere = await callTool(ctx.url, session.headers, id++, "list_datasets", {});
      results.push({
        what: "the catalog still answers after the attempts",
        ...stillThere,
        ok: !stillThere.isError,
      });
      for (const file of [`${marker}.csv`, `${marker}-2.csv`, `${marker}.duckdb`]) {
        results.push({ what: `no file ${file}`, isError: false, text: "", ok: !existsSync(file) });
      }
      return refusedAll(results);
    },
  },
  {
    name: "SSRF and path traversal through register_dataset: loopback, metadata, look-alike hosts, file: and ../ are refused",
    run: async (ctx) => {
      const session = await openSession(ctx.url, { "x-api-key": ctx.alice });
      const port = ctx.server.port;
      const urls = [
        `http://127.0.0.1:${port}/metrics`,
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::1]/x.csv",
        "http://10.0.0.1/public/x.csv",
        "https://data.example.org.evil.example/public/x.csv",
        "https://data.example.org@127.0.0.1/public/x.csv",
        "https://data.example.org:8443/public/x.csv",
        "https://data.example.org/private/x.csv",
        "https://data.example.org/public/../private/x.csv",
        "https://data.example.org/public/%2e%2e/private/x.csv",
        "http://data.example.org/public/x.csv",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
      ];
      const results = [];
      let id = 200;
      for (const url of urls) {
        const r = await callTool(ctx.url, session.headers, id++, "register_dataset", { name: "ssrf", url });
        results.push({ what: url, ...r, ok: r.isError && /not under an allowed base URL/.test(r.text) });
      }
      for (const path of ["../../../../etc/passwd", "/etc/passwd", "..%2f..%2fetc%2fpasswd"]) {
        const r = await callTool(ctx.url, session.headers, id++, "register_dataset", { name: "trav", path });
        results.push({
          what: path,
          ...r,
          ok: r.isError && /outside the allowed roots|not found/.test(r.text),
        });
      }
      return refusedAll(results);
    },
  },
];

/** Flags the data-analytics attack server runs with: one allowed base, on a host nobody can reach. */
export const DATA_ANALYTICS_ATTACK_ARGS = ["--allow-url", "https://data.example.org/public/"];
