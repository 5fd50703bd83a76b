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
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.#take(chunk.subarray(start, nl + 1), true);
      start = nl + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start), false);
    callback();
  }

  #take(part: Buffer, endsLine: boolean): void {
    if (!this.#dropping) {
      if (this.#pendingBytes + part.length - (endsLine ? 1 : 0) > this.#max) {
        this.#dropping = true;
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#onOversize();
      } else if (endsLine) {
        if (this.#pending.length) {
          this.#pending.push(part);
          this.push(Buffer.concat(this.#pending));
          this.#pending = [];
          this.#pendingBytes = 0;
        } else {
          this.push(part);
        }
        return;
      } else {
        this.#pending.push(part);
        this.#pendingBytes += part.length;
        return;
      }
    }
    if (endsLine) this.#dropping = false;
  }
}
