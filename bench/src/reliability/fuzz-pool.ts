import { Worker } from "node:worker_threads";
import type { FuzzResult } from "./fuzz-stdio.js";
import type { FuzzJob, FuzzWorkerMessage } from "./fuzz-worker.js";

/** The built worker, from src/ (vitest) and dist/ alike: both sit at the same depth. */
const WORKER = new URL("../../dist/reliability/fuzz-worker.js", import.meta.url);

/**
 * Runs the fuzz jobs `atOnce` at a time, each in a worker thread of its own (fuzz-worker.ts), longest
 * first (the HTTP runs: each keeps its server at a full core), and returns the results in the order
 * the jobs were given. A job that fails rejects the whole, as a failing run always did.
 */
export async function runFuzzPool(
  jobs: readonly FuzzJob[],
  atOnce: number,
  log: (line: string) => void,
): Promise<FuzzResult[]> {
  const results: FuzzResult[] = new Array<FuzzResult>(jobs.length);
  const queue = jobs
    .map((job, index) => ({ job, index }))
    .sort((a, b) => Number(b.job.transport === "http") - Number(a.job.transport === "http"));
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      results[next.index] = await runInWorker(next.job, log);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, atOnce) }, lane));
  return results;
}

function runInWorker(job: FuzzJob, log: (line: string) => void): Promise<FuzzResult> {
  log(`fuzz ${job.transport} ${job.target}: up to ${job.plan.messages} messages, seed ${job.plan.seed}`);
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: job });
    worker.on("message", (message: FuzzWorkerMessage) => {
      if ("log" in message) return log(message.log);
      // The run has stopped its server and removed its temp dirs: a timer it left (a kill's grace
      // period) must not hold the lane.
      resolve(message.result);
      void worker.terminate();
    });
    worker.once("error", (err) =>
      reject(new Error(`fuzz ${job.transport} ${job.target} failed: ${err.message}`, { cause: err })),
    );
    worker.once("exit", (code) =>
      reject(new Error(`fuzz ${job.transport} ${job.target}: its worker exited (${code}) without a result`)),
    );
  });
}
