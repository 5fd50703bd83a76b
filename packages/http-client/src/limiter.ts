import type { Cancellation } from "./transport.js";

interface Waiter {
  resolve: () => void;
  cancel: Cancellation | undefined;
  onCancel: () => void;
}

/**
 * At most `limit` requests of one client in flight; the rest wait in FIFO order. A waiter whose
 * call is cancelled leaves the queue at once. `acquire` returns undefined when a slot was free, so
 * the common case allocates no promise.
 */
export class Limiter {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  acquire(cancel: Cancellation | undefined): Promise<void> | undefined {
    if (this.active < this.limit) {
      this.active++;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      if (cancel?.aborted) {
        reject(cancel.error());
        return;
      }
      const waiter: Waiter = {
        resolve,
        cancel,
        onCancel: () => {
          const index = this.queue.indexOf(waiter);
          if (index !== -1) this.queue.splice(index, 1);
          reject(cancel!.error());
        },
      };
      cancel?.listen(waiter.onCancel);
      this.queue.push(waiter);
    });
  }

  /** Hands the slot to the next waiter, or frees it. */
  release(): void {
    const next = this.queue.shift();
    if (next === undefined) {
      this.active--;
      return;
    }
    next.cancel?.clear(next.onCancel);
    next.resolve();
  }
}
