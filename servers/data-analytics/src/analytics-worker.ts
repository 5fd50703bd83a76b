import { parentPort } from "node:worker_threads";
import { scanFileShape } from "./file-shape.js";
import type { TaskRequest } from "./worker-tasks.js";

// The worker thread for the server's CPU-heavy work (see task-thread.ts): one message in, one answer
// out. Chart rendering loads vega on the first chart, so servers that never chart never pay for it.
async function perform(request: TaskRequest): Promise<unknown> {
  switch (request.op) {
    case "shape":
      return scanFileShape(
        request.file,
        request.format === "json" || request.format === "ndjson",
        request.maxDepth,
        request.maxLineBytes,
      );
    case "chart": {
      const { renderChart } = await import("./chart-render.js");
      return renderChart(request.spec as Parameters<typeof renderChart>[0]);
    }
  }
}

parentPort?.on("message", (request: TaskRequest & { id: number }) => {
  perform(request).then(
    (value) => parentPort?.postMessage({ id: request.id, value }),
    (e: unknown) =>
      parentPort?.postMessage({
        id: request.id,
        code: (e as { code?: string }).code === "invalid_input" ? "invalid_input" : "internal",
        message: e instanceof Error ? e.message : String(e),
      }),
  );
});
