import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { isIP } from "node:net";
import * as path from "node:path";
import { createHttpClient, nonPublicReason, redactQuery, type HttpClient } from "@toolshed/http-client";
import { ToolshedError, type SetupContext } from "@toolshed/server";
import type { Phase } from "./progress.js";

/** One allow-listed base URL and the client that may fetch under it. */
interface AllowedBase {
  url: URL;
  /** The base's path with a trailing slash: a URL is under the base when its path starts so. */
  prefix: string;
  client: HttpClient;
}

function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  return bare === "localhost" || (isIP(bare) !== 0 && /^(127\.|::1$)/.test(bare));
}

/** Checks one `--allow-url` value; a bad one stops the server at startup with this message. */
export function parseAllowedBase(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(
      `--allow-url '${text}' is not a URL; give a base such as https://data.example.org/public/`,
    );
  }
  if (url.username || url.password) {
    throw new Error(`--allow-url '${url.host}': credentials do not belong in the URL`);
  }
  if (url.search || url.hash) {
    throw new Error(`--allow-url '${url.href}': a base URL has no query or fragment`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    throw new Error(
      `--allow-url '${url.href}': only https base URLs are allowed (plain http only on loopback, for local testing)`,
    );
  }
  return url;
}

/**
 * Downloads dataset files through @toolshed/http-client from allow-listed base URLs only: the
 * client's SSRF guard checks every hop's host and resolved address, redirects must stay on the
 * base's host, and the body streams to a file in the data dir under a size cap.
 */
export class Downloader {
  private constructor(
    private readonly bases: AllowedBase[],
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  static create(options: {
    allowUrl: string[];
    dataDir: string;
    maxBytes: number;
    timeoutMs: number;
    metrics?: SetupContext<unknown>["metrics"];
  }): Downloader {
    const bases = options.allowUrl.map((text) => {
      const url = parseAllowedBase(text);
      const host = url.hostname.replace(/^\[|\]$/g, "");
      // The operator named this host; a private one (an internal data server) is allowed on purpose.
      const privateHost = isLoopbackHost(host) || (isIP(host) !== 0 && nonPublicReason(host) !== undefined);
      const client = createHttpClient({
        name: "dataset-download",
        baseUrl: url.origin,
        allowHosts: [url.hostname],
        allowPrivateNetwork: privateHost,
        maxResponseBytes: options.maxBytes,
        timeouts: {
          totalMs: options.timeoutMs,
          headersMs: Math.min(15_000, options.timeoutMs),
          bodyMs: Math.min(30_000, options.timeoutMs),
        },
        retry: { attempts: 3 },
        concurrency: 4,
        ...(options.metrics ? { metrics: options.metrics } : {}),
      });
      return { url, prefix: url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`, client };
    });
    return new Downloader(bases, path.join(options.dataDir, "downloads"), options.maxBytes);
  }

  get configured(): boolean {
    return this.bases.length > 0;
  }

  /** The allowed base a URL falls under, or a forbidden error naming the allow-list. */
  private baseFor(text: string): { base: AllowedBase; url: URL } {
    if (!this.configured) {
      throw new ToolshedError(
        "forbidden",
        "downloads are off: the server was started without --allow-url; register a local file with path instead",
      );
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ToolshedError("invalid_input", `'${text}' is not a URL`);
    }
    const base = this.bases.find(
      (b) =>
        url.protocol === b.url.protocol &&
        url.host === b.url.host &&
        !url.username &&
        !url.password &&
        (url.pathname === b.url.pathname || url.pathname.startsWith(b.prefix)),
    );
    if (!base) {
      throw new ToolshedError(
        "forbidden",
        `'${url.origin}${url.pathname}' is not under an allowed base URL (${this.bases.map((b) => b.url.href).join(", ")}); ask the operator to add one with --allow-url`,
      );
    }
    return { base, url };
  }

  /** Refuses a URL that is not allowed, before anything is fetched. */
  check(text: string): URL {
    return this.baseFor(text).url;
  }

  /**
   * Fetches `url` into `<data dir>/downloads/<fileName>`: into a `.part` file first, renamed when
   * complete, so a failed or cut-off download leaves nothing behind. Progress is the share of the
   * declared content-length received (a heartbeat when the upstream declares none).
   */
  async download(
    text: string,
    fileName: string,
    options: { signal?: AbortSignal; progress?: Phase },
  ): Promise<{ file: string; bytes: number; contentType: string | undefined }> {
    const { base, url } = this.baseFor(text);
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, fileName);
    const part = `${file}.part`;
    let fd: number | undefined;
    let received = 0;
    let total = 0;
    let contentType: string | undefined;
    let lastReport = 0;
    const progress = options.progress;
    const shown = Downloader.shown(url);
    try {
      await base.client.get(url.href, {
        ...(options.signal ? { signal: options.signal } : {}),
        maxResponseBytes: this.maxBytes,
        sink: {
          start: (_status, headers) => {
            if (fd !== undefined) closeSync(fd);
            fd = openSync(part, "w"); // a retried attempt starts the file over
            received = 0;
            total = Number(headers["content-length"]) || 0;
            const type = headers["content-type"];
            contentType = typeof type === "string" ? type : undefined;
            progress?.report(
              0,
              `downloading ${shown}${total ? ` (${(total / 1048576).toFixed(1)} MiB)` : ""}`,
            );
          },
          write: (chunk) => {
            writeSync(fd!, chunk);
            received += chunk.length;
            const now = Date.now();
            if (progress && now - lastReport >= 200) {
              lastReport = now;
              if (total) {
                progress.report(
                  Math.min(99, (received / total) * 100),
                  `downloaded ${(received / 1048576).toFixed(1)} of ${(total / 1048576).toFixed(1)} MiB`,
                );
              } else {
                progress.heartbeat(`downloaded ${(received / 1048576).toFixed(1)} MiB`);
              }
            }
          },
        },
      });
      if (fd === undefined) {
        throw new ToolshedError("upstream_error", `${shown} answered without a body; check the URL`);
      }
      closeSync(fd);
      fd = undefined;
      renameSync(part, file);
      progress?.report(100, `downloaded ${(received / 1048576).toFixed(1)} MiB`);
      return { file, bytes: received, contentType };
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      rmSync(part, { force: true });
      throw e;
    }
  }

  /** A URL as recorded and shown: credentials in its query string redacted. */
  static shown(url: URL): string {
    return `${url.origin}${url.pathname}${redactQuery(url.search)}`;
  }

  async close(): Promise<void> {
    await Promise.all(this.bases.map((b) => b.client.close()));
  }
}
