import { Transform, type TransformCallback } from "node:stream";

/**
 * Passes newline-delimited messages through whole, and drops any line longer than `maxBytes`,
 * calling `onOversize` once for it, so one oversized message costs an error answer rather than
 * the session (the SDK's stdio transport closes on a line over its own 10 MiB cap). Lines are held
 * until complete, so at most `maxBytes` of a partial line is buffered.
 */
export class LineGuard extends Transform {
  readonly #max: number;
  readonly #onOversize: () => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #dropping = false;

  constructor(maxBytes: number, onOversize: () => void) {
    super();
    this.#max = maxBytes;
    this.#onOversize = onOversize;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Whole lines that pass are pushed as one contiguous run: the common case is one push per chunk.
    let start = 0;
    let runStart = -1;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (!this.#dropping && !this.#pending.length && nl - start <= this.#max) {
        if (runStart === -1) runStart = start;
      } else {
        if (runStart !== -1) this.push(chunk.subarray(runStart, start));
        runStart = -1;
        this.#take(chunk.subarray(start, nl + 1), true);
      }
      start = nl + 1;
    }
    if (runStart !== -1) this.push(chunk.subarray(runStart, start));
    if (start < chunk.length) this.#take(chunk.subarray(start), false);
    callback();
  }

  /** A line's end (`endsLine`) or a partial line, when it cannot simply be passed on. */
  #take(part: Buffer, endsLine: boolean): void {
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
    if (!endsLine) {
      this.#pending.push(part);
      this.#pendingBytes += part.length;
      return;
    }
    this.#pending.push(part);
    this.push(this.#pending.length === 1 ? part : Buffer.concat(this.#pending));
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}
