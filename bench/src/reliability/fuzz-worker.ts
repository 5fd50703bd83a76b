// One fuzz run (a server on one transport) in a worker thread of its own, for fuzz-pool.ts. Each run's
// client gets an event loop to itself: two HTTP runs sharing the bench's one loop took twice as long
// each, the loop and not the servers being the bottleneck.
import { parentPort, workerData } from "node:worker_threads";
import { fuzzHttp } from "./fuzz-http.js";
import { fuzzStdio, type FuzzPlan, type FuzzResult } from "./fuzz-stdio.js";
import { removeTempDirs, TARGETS } from "./targets.js";

export interface FuzzJob {
  target: string;
  transport: "stdio" | "http";
  plan: FuzzPlan;
}

/** What a worker posts: its progress lines, then its one result. */
export type FuzzWorkerMessage = { log: string } | { result: FuzzResult };

const job = workerData as FuzzJob;
const post = (message: FuzzWorkerMessage) => parentPort!.postMessage(message);
const target = TARGETS.find((t) => t.name === job.target);
if (!target) throw new Error(`no reliability target named '${job.target}'`);
let result: FuzzResult;
try {
  result =
    job.transport === "stdio"
      ? await fuzzStdio(target, job.plan)
      : await fuzzHttp(target, job.plan, (line) => post({ log: line }));
} finally {
  removeTempDirs();
}
post({ result });
