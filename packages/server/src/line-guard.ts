import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";

/**
 * Frames newline-delimited messages and drops any line longer than `maxBytes`, calling
 * `onOversize` once for it, so one oversized message costs an error answer rather than the session
 * (the SDK's stdio transport closes on a line over its own 10 MiB cap). Lines are held until
 * complete, so at most `maxBytes` of a partial line is buffered.
 */
export class LineGuard {
  readonly #max: number;
  readonly #onOversize: () => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #dropping = false;

  constructor(maxBytes: number, onOversize: () => void) {
    this.#max = maxBytes;
    this.#onOversize = onOversize;
  }

  /** Passes on what may go through, as few buffers as possible (one per chunk in the common case). */
  feed(chunk: Buffer, pass: (data: Buffer) => void): void {
    let start = 0;
    let runStart = -1;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (!this.#dropping && !this.#pending.length && nl - start <= this.#max) {
        if (runStart === -1) runStart = start;
      } else {
        if (runStart !== -1) pass(chunk.subarray(runStart, start));
        runStart = -1;
        this.#take(chunk.subarray(start, nl + 1), true, pass);
      }
      start = nl + 1;
    }
    if (runStart !== -1) pass(chunk.subarray(runStart, start));
    if (start < chunk.length) this.#take(chunk.subarray(start), false, pass);
  }

  /** A line's end (`endsLine`) or a partial line, when it cannot simply be passed on. */
  #take(part: Buffer, endsLine: boolean, pass: (data: Buffer) => void): void {
    if (this.#dropping) {
      if (endsLine) this.#dropping = false;
      return;
    }
    if (this.#pendingBytes + part.length - (endsLine ? 1 : 0) > this.#max) {
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#dropping = !endsLine;
      this.#onOversize();
      return;
    }
    this.#pending.push(part);
    if (!endsLine) {
      this.#pendingBytes += part.length;
      return;
    }
    pass(this.#pending.length === 1 ? part : Buffer.concat(this.#pending));
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

/**
 * `input` seen through a LineGuard, with only what the SDK's stdio transport uses of a Readable
 * (`on`/`off`/`listenerCount` for "data" and "error", `pause`). Chunks are forwarded synchronously:
 * a Transform stream here cost a measurable share of stdio throughput.
 */
export function guardInput(input: Readable, guard: LineGuard): Readable {
  const out = new EventEmitter();
  // Reading starts with the first "data" listener, as with a Readable, so nothing is read unheard.
  let reading = false;
  out.on("newListener", (event: string) => {
    if (event !== "data" || reading) return;
    reading = true;
    input.on("data", (chunk: Buffer) => guard.feed(chunk, (data) => out.emit("data", data)));
  });
  input.on("error", (err: Error) => out.emit("error", err));
  return Object.assign(out, {
    pause: () => {
      input.pause();
      return out;
    },
  }) as unknown as Readable;
}
