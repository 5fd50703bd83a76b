import type { IncomingMessage } from "node:http";

export class BodyTooLarge extends Error {}

/** The body did not arrive within the deadline (a slow or stalled client). */
export class BodyTimeout extends Error {}

/**
 * Reads a request body up to `limit` bytes; rejects with BodyTooLarge beyond it, and with
 * BodyTimeout when the whole body has not arrived within `deadlineMs` (when given).
 */
export function readBody(req: IncomingMessage, limit: number, deadlineMs?: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer =
      deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            req.removeAllListeners("data");
            reject(new BodyTimeout());
          }, deadlineMs);
    timer?.unref();
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        clearTimeout(timer);
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, size));
    });
    req.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
