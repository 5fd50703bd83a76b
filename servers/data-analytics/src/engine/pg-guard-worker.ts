import { parentPort } from "node:worker_threads";
import { ToolshedError } from "@toolshed/server";
import { checkPostgresSelect } from "./pg-guard.js";
import { indexColumns } from "./pg-index-candidates.js";

// The worker thread that parses and classifies user SQL for the PostgreSQL engine (see
// pg-guard-thread.ts). One message in, one answer out: no error means the SQL may run. Once the
// parser has loaded it says `ready`, from when the thread times each check.
// With `op: "columns"`, a statement that passes is answered with where an index could serve it.
parentPort?.on("message", (request: { id: number; sql: string; op?: "columns" }) => {
  void checkPostgresSelect(request.sql)
    .then((root) => (request.op === "columns" ? indexColumns(root) : undefined))
    .then(
      (value) => parentPort?.postMessage({ id: request.id, value }),
      (e: unknown) =>
        parentPort?.postMessage({
          id: request.id,
          code: e instanceof ToolshedError ? e.code : "internal",
          message: e instanceof Error ? e.message : String(e),
        }),
    );
});
void checkPostgresSelect("SELECT 1")
  .catch(() => undefined)
  .then(() => parentPort?.postMessage({ ready: true }));
