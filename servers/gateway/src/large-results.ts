import { randomUUID } from "node:crypto";
import { ToolshedError, type WireResult } from "@toolshed/server";
import { LRUCache } from "lru-cache";
import { SHARED_KEY_PREFIX, type SharedStore } from "./shared.js";

/** The gateway's own tool that pages a kept answer (listed while large answers are linked). */
export const READ_RESULT_TOOL = "read_result";
/** The URI scheme of kept answers: `toolshed-gateway://results/<id>?page=<n>`. */
export const RESULT_URI_PREFIX = "toolshed-gateway://results/";
export const RESULT_URI_TEMPLATE = `${RESULT_URI_PREFIX}{id}{?page}`;

/** How much of a linked answer comes inline, and the size of each further page. */
export const PREVIEW_BYTES = 4 * 1024;
export const PAGE_BYTES = 32 * 1024;
/** How long a linked answer is kept, and the most bytes all of them may hold (oldest go first). */
const TTL_MS = 60 * 60_000;
const MAX_STORED_BYTES = 256 * 1024 * 1024;

interface Kept {
  /** The caller it belongs to ("" without auth); nobody else can read it. */
  owner: string;
  tool: string;
  text: Buffer;
}

/** The first `max` bytes of `buf`, cut back to a whole UTF-8 character. */
function cutUtf8(buf: Buffer, start: number, max: number): Buffer {
  let end = Math.min(buf.length, start + max);
  // Back up over continuation bytes (10xxxxxx) so a character is never split.
  while (end > start && end < buf.length && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(start, end);
}

/** Page boundaries of `buf`: page 1 is the preview, each later page at most PAGE_BYTES. */
function pageStarts(buf: Buffer): number[] {
  const starts = [0];
  let at = cutUtf8(buf, 0, PREVIEW_BYTES).length;
  while (at < buf.length) {
    starts.push(at);
    at += cutUtf8(buf, at, PAGE_BYTES).length;
  }
  return starts;
}

const bytes = (n: number) => n.toLocaleString("en-US");

/**
 * Tool answers over `thresholdBytes` of text, kept here and replaced by their start, a
 * `resource_link` and a note on how to read the rest page by page (the `read_result` tool, or
 * resources/read of the link). Only answers without `structuredContent` are linked: a structured
 * answer must stay whole for the tool's output schema. Kept for an hour, for the caller that got
 * it: in this process when the gateway runs alone, in the shared store (Redis) when replicas share
 * one, so a page can be read from any replica. When Redis fails to keep an answer, this replica keeps
 * it (and logs it), so the caller can still read it here.
 */
export class LargeResults {
  readonly #kept = new LRUCache<string, Kept>({
    maxSize: MAX_STORED_BYTES,
    ttl: TTL_MS,
    sizeCalculation: (k) => Math.max(1, k.text.length),
  });
  readonly #store: SharedStore | undefined;

  constructor(
    readonly thresholdBytes: number,
    options: { store?: SharedStore } = {},
  ) {
    this.#store = options.store;
  }

  #sharedKey(id: string): string {
    return `${SHARED_KEY_PREFIX}results:${id}`;
  }

  async #keep(id: string, kept: Kept): Promise<void> {
    const store = this.#store;
    if (store) {
      try {
        const replies = await store.redis
          .multi()
          .hset(this.#sharedKey(id), { owner: kept.owner, tool: kept.tool, text: kept.text })
          .pexpire(this.#sharedKey(id), TTL_MS)
          .exec();
        // A transaction answers each command's error in its reply rather than rejecting.
        const failed = replies?.find(([err]) => err)?.[0];
        if (!replies || failed) throw failed ?? new Error("the transaction was discarded");
        return;
      } catch (err) {
        store.warn("keeping a large answer (kept on this replica instead)", err);
      }
    }
    this.#kept.set(id, kept);
  }

  async #find(id: string): Promise<Kept | undefined> {
    const local = this.#kept.get(id);
    const store = this.#store;
    if (local || !store) return local;
    let found: (Buffer | null)[];
    try {
      found = await store.redis.hmgetBuffer(this.#sharedKey(id), "owner", "tool", "text");
    } catch (err) {
      store.warn("reading a large answer", err);
      throw new ToolshedError(
        "upstream_unavailable",
        "the gateway's shared store (Redis) did not answer while reading this answer; retry in a few seconds",
      );
    }
    const [owner, tool, text] = found;
    if (owner == null || tool == null || text == null) return undefined;
    return { owner: owner.toString("utf8"), tool: tool.toString("utf8"), text };
  }

  get enabled(): boolean {
    return this.thresholdBytes > 0;
  }

  /** Whether `shrink` may change `result`: otherwise it gives it back as it is. */
  mayShrink(result: WireResult): boolean {
    return this.enabled && result.isError !== true && result.structuredContent === undefined;
  }

  /** `result` itself, or with its text replaced by a preview and a link when it is too large. */
  async shrink(result: WireResult, tool: string, owner: string | undefined): Promise<WireResult> {
    if (!this.mayShrink(result)) return result;
    const content = Array.isArray(result.content) ? (result.content as Record<string, unknown>[]) : [];
    const texts = content.filter((c) => c.type === "text" && typeof c.text === "string");
    const text = Buffer.from(texts.map((c) => c.text as string).join("\n"), "utf8");
    if (text.length <= this.thresholdBytes) return result;
    const id = randomUUID();
    await this.#keep(id, { owner: owner ?? "", tool, text });
    const pages = pageStarts(text).length;
    const preview = cutUtf8(text, 0, PREVIEW_BYTES).toString("utf8");
    const uri = `${RESULT_URI_PREFIX}${id}`;
    const note =
      `\n\n[The answer of ${tool} is ${bytes(text.length)} bytes, too large to show whole; above is its ` +
      `first page of ${pages}. Read page 2 and on with ${READ_RESULT_TOOL} { "id": "${id}", "page": 2 } ` +
      `(or resources/read ${uri}?page=2). It is kept for an hour.]`;
    return {
      ...result,
      content: [
        { type: "text", text: preview + note },
        {
          type: "resource_link",
          uri,
          name: `${tool} answer`,
          description: `The whole answer of ${tool}, ${bytes(text.length)} bytes in ${pages} pages`,
          mimeType: "text/plain",
          size: text.length,
        },
        ...content.filter((c) => !texts.includes(c)),
      ],
    };
  }

  /** One page of a kept answer, for its owner; not_found for anyone else, or once it expired. */
  async page(
    id: string,
    page: number,
    owner: string | undefined,
  ): Promise<{ text: string; page: number; pages: number }> {
    const kept = await this.#find(id);
    if (!kept || kept.owner !== (owner ?? "")) {
      const elsewhere = this.#store
        ? ""
        : ", was kept by another gateway replica (replicas share answers only with TOOLSHED_REDIS_URL)";
      throw new ToolshedError(
        "not_found",
        `no kept answer '${id}': it expired (answers are kept for an hour)${elsewhere}, or is not yours; call the tool again`,
      );
    }
    const starts = pageStarts(kept.text);
    if (!Number.isInteger(page) || page < 1 || page > starts.length) {
      throw new ToolshedError(
        "invalid_input",
        `page must be a whole number from 1 to ${starts.length} (the answer has ${starts.length} pages)`,
      );
    }
    const start = starts[page - 1]!;
    const end = starts[page] ?? kept.text.length;
    return { text: kept.text.subarray(start, end).toString("utf8"), page, pages: starts.length };
  }

  /** The `read_result` tool as tools/list shows it. */
  static toolEntry(): WireResult {
    return {
      name: READ_RESULT_TOOL,
      title: "Read a large answer",
      description:
        "Reads one page of a tool answer that was too large to show whole (the answer names its id and page count).",
      inputSchema: {
        type: "object",
        properties: {
          id: { type: "string", description: "The id the answer named" },
          page: { type: "integer", minimum: 1, description: "Page number; 2 is the first not shown" },
        },
        required: ["id", "page"],
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    };
  }

  /** The `read_result` call: `{ id, page }` → that page as text, with where it is. */
  async read(args: Record<string, unknown>, owner: string | undefined): Promise<WireResult> {
    if (typeof args.id !== "string" || !args.id) {
      throw new ToolshedError(
        "invalid_input",
        `${READ_RESULT_TOOL} needs \`id\`: the id the large answer named`,
      );
    }
    const page = typeof args.page === "number" ? args.page : Number.NaN;
    const got = await this.page(args.id, page, owner);
    const tail =
      got.page < got.pages
        ? `\n\n[page ${got.page} of ${got.pages}; next: page ${got.page + 1}]`
        : `\n\n[page ${got.page} of ${got.pages}, the last]`;
    return { content: [{ type: "text", text: got.text + tail }] };
  }

  /** resources/read of `toolshed-gateway://results/<id>?page=<n>` (page 1 without `page`). */
  async readUri(
    uri: string,
    owner: string | undefined,
  ): Promise<{ contents: { uri: string; mimeType: string; text: string }[] }> {
    const url = new URL(uri);
    const id = url.pathname.replace(/^\//, "");
    const page = url.searchParams.has("page") ? Number(url.searchParams.get("page")) : 1;
    const got = await this.page(id, page, owner);
    return { contents: [{ uri, mimeType: "text/plain", text: got.text }] };
  }
}
