import type { Cancellation } from "./transport.js";

/** Waits `ms`, or rejects as soon as the call is cancelled. */
export function sleep(ms: number, cancel: Cancellation): Promise<void> {
  return new Promise((resolve, reject) => {
    if (cancel.aborted) {
      reject(cancel.error());
      return;
    }
    const onCancel = () => {
      clearTimeout(timer);
      reject(cancel.error());
    };
    const timer = setTimeout(() => {
      cancel.clear(onCancel);
      resolve();
    }, ms);
    cancel.listen(onCancel);
  });
}
