import type { Dispatcher } from "undici";
import type { ResponseSink } from "./options.js";
import type { HttpHeaders } from "./types.js";

/**
 * The cancellation of one `request()` call: its total deadline or the caller's signal. Lighter
 * than an AbortController (a measurable share of a loopback request's CPU): a call does one thing
 * at a time (wait for a slot, an exchange, a backoff), so it has one listener slot.
 */
export class Cancellation {
  aborted = false;
  reason: unknown = undefined;
  private listener: (() => void) | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }

  /** Calls `listener` on abort until it is cleared; one listener at a time. */
  listen(listener: () => void): void {
    this.listener = listener;
  }

  /** Removes `listener` if it is still the one listening (a later step may have replaced it). */
  clear(listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }

  /** The reason as an Error, which undici's abort wants. */
  error(): Error {
    return this.reason instanceof Error ? this.reason : new Error("request aborted");
  }
}

/** The response body passed the size cap; the exchange was aborted at that point. */
export class ResponseTooLargeError extends Error {
  override readonly name = "ResponseTooLargeError";
  readonly code = "ERR_TOOLSHED_RESPONSE_TOO_LARGE";
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
  }
}

/** The caller's sink threw: the exchange was aborted; the cause is the sink's own error. */
export class SinkError extends Error {
  override readonly name = "SinkError";
  readonly code = "ERR_TOOLSHED_SINK";
  constructor(override readonly cause: unknown) {
    super(`the response sink failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export interface RawResponse {
  status: number;
  headers: HttpHeaders;
  body: Buffer;
}

export interface SendOptions {
  /** Body cap for 2xx and 304 answers; past it the exchange fails with ResponseTooLargeError. */
  maxBytes: number;
  /** How much of any other answer (errors, redirects) is kept; the rest is dropped, no error. */
  otherBytes: number;
  /** Receives a 2xx body instead of the collected buffer. */
  sink?: ResponseSink | undefined;
}

const EMPTY = Buffer.alloc(0);

/**
 * One HTTP exchange on a dispatcher through undici's handler API, collecting the body straight
 * from the parser: no stream, no AbortSignal, and the size cap enforced chunk by chunk, so an
 * endless body is cut off at the cap.
 */
export function send(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  limits: SendOptions,
  cancel: Cancellation,
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const handler = new CollectHandler(limits, cancel, resolve, reject);
    cancel.listen(handler.onCancel);
    dispatcher.dispatch(options, handler);
  });
}

class CollectHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: HttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private cap = 0;
  private truncate = false;
  private streaming = false;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined;

  constructor(
    private readonly limits: SendOptions,
    private readonly cancel: Cancellation,
    private readonly resolve: (value: RawResponse) => void,
    private readonly reject: (reason: Error) => void,
  ) {}

  /**
   * The call was cancelled: settle at once, even while undici still queues the request for a
   * socket, and abort the exchange (now, or as soon as undici starts it, before it is written).
   */
  readonly onCancel = (): void => {
    const error = this.cancel.error();
    if (this.controller) this.controller.abort(error);
    this.fail(error);
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancel.aborted) controller.abort(this.cancel.error());
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: HttpHeaders): void {
    if (status < 200) return; // 1xx informational: the real answer follows
    this.status = status;
    this.headers = headers;
    const ok = (status >= 200 && status < 300) || status === 304;
    this.cap = ok ? this.limits.maxBytes : this.limits.otherBytes;
    this.truncate = !ok;
    if (ok) {
      const length = Number(headers["content-length"]);
      if (length > this.cap) {
        controller.abort(new ResponseTooLargeError(this.cap));
        return;
      }
      const sink = status === 304 ? undefined : this.limits.sink;
      if (sink) {
        this.streaming = true;
        try {
          sink.start(status, headers);
        } catch (err) {
          controller.abort(new SinkError(err));
        }
      }
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.size + chunk.length > this.cap) {
      if (this.truncate) {
        this.chunks.push(chunk.subarray(0, this.cap - this.size));
        this.size = this.cap;
        this.finish();
        controller.abort(new Error("rest of the response dropped"));
      } else {
        controller.abort(new ResponseTooLargeError(this.cap));
      }
      return;
    }
    this.size += chunk.length;
    if (!this.streaming) {
      this.chunks.push(chunk);
      return;
    }
    try {
      this.limits.sink!.write(chunk);
    } catch (err) {
      controller.abort(new SinkError(err));
    }
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  private fail(error: Error): void {
    this.cancel.clear(this.onCancel);
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }

  private finish(): void {
    this.cancel.clear(this.onCancel);
    if (this.settled) return;
    this.settled = true;
    const { chunks } = this;
    const body =
      chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? EMPTY : Buffer.concat(chunks, this.size);
    this.resolve({ status: this.status, headers: this.headers, body });
  }
}
