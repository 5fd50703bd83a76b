import { parentPort } from "node:worker_threads";
import { ToolshedError } from "@toolshed/server";
import { checkPostgresSelect } from "./pg-guard.js";

// The worker thread that parses and classifies user SQL for the PostgreSQL engine (see
// pg-guard-thread.ts). One message in, one answer out: no error means the SQL may run. Once the
// parser has loaded it says `ready`, from when the thread times each check.
parentPort?.on("message", (request: { id: number; sql: string }) => {
  void checkPostgresSelect(request.sql).then(
    () => parentPort?.postMessage({ id: request.id }),
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
