import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";

/** How much of a dropped line's start and end is kept to find its JSON-RPC id. */
const PEEK_BYTES = 512;
const ID_VALUE = String.raw`(-?\d+|"(?:[^"\\]|\\.)*")`;
/** `{"jsonrpc":"2.0","method":"…","id":7,…`: the id among the first top-level members. */
const HEAD_ID = new RegExp(
  String.raw`^\s*\{(?:\s*"(?:jsonrpc|method)"\s*:\s*"(?:[^"\\]|\\.)*"\s*,)*\s*"id"\s*:\s*` + ID_VALUE,
);
/** `…},"id":7}`: the id as the last top-level member (one closing brace after it, not two). */
const TAIL_ID = new RegExp(String.raw`,\s*"id"\s*:\s*` + ID_VALUE + String.raw`\s*\}\s*$`);

/**
 * The JSON-RPC id of a message seen only by its first and last bytes, when it stands where
 * serialisers put it (before `params`, or last); undefined otherwise. The answer to an oversized
 * request then carries its id, so the client's call fails at once instead of waiting out a timeout.
 */
export function recoverId(head: Buffer, tail: Buffer): string | number | undefined {
  const match = HEAD_ID.exec(head.toString("utf8")) ?? TAIL_ID.exec(tail.toString("utf8"));
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]!) as string | number;
  } catch {
    return undefined;
  }
}

/**
 * Frames newline-delimited messages and drops any line longer than `maxBytes`, calling
 * `onOversize` once for it when the line ends (with its id, when one can be read off its ends), so
 * one oversized message costs an error answer rather than the session (the SDK's stdio transport
 * closes on a line over its own 10 MiB cap). Lines are held until complete, so at most `maxBytes` of
 * a partial line is buffered.
 */
export class LineGuard {
  readonly #max: number;
  readonly #onOversize: (id: string | number | undefined) => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #dropping = false;
  #head: Buffer = Buffer.alloc(0);
  #tail: Buffer = Buffer.alloc(0);

  constructor(maxBytes: number, onOversize: (id: string | number | undefined) => void) {
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
      this.#keepTail(part);
      if (endsLine) this.#dropped();
      return;
    }
    if (this.#pendingBytes + part.length - (endsLine ? 1 : 0) > this.#max) {
      const start = Buffer.concat([...this.#pending, part.subarray(0, PEEK_BYTES)]);
      this.#head = start.subarray(0, PEEK_BYTES);
      this.#tail = Buffer.alloc(0);
      this.#keepTail(part);
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#dropping = true;
      if (endsLine) this.#dropped();
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

  #keepTail(part: Buffer): void {
    const joined = part.length >= PEEK_BYTES ? part : Buffer.concat([this.#tail, part]);
    this.#tail = Buffer.from(joined.subarray(Math.max(0, joined.length - PEEK_BYTES)));
  }

  #dropped(): void {
    this.#dropping = false;
    const id = recoverId(this.#head, this.#tail);
    this.#head = Buffer.alloc(0);
    this.#tail = Buffer.alloc(0);
    this.#onOversize(id);
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
