// The request body of a call, and the upload limits and guards of the files it sends.
import { constants } from "node:fs";
import { open, realpath } from "node:fs/promises";
import { basename, isAbsolute, relative, resolve, sep } from "node:path";
import { ToolshedError, type AnyObjectSchema } from "@toolshed/server";
import type { ApiDeps } from "./api.js";
import { scalar } from "./encode.js";
import type { OperationSpec } from "./operation.js";

/** The most bytes of decoded uploads one call may send unless maxUploadBytes says otherwise. */
export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** Counts one upload against the call's limit, refusing it (before it is decoded or read) above it. */
function countUpload(field: string, size: number, deps: ApiDeps, sent: { bytes: number }): void {
  const limit = deps.config.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  sent.bytes += size;
  if (sent.bytes > limit) {
    const env = deps.api.baseUrlEnv.replace(/BASE_URL$/, "MAX_UPLOAD_BYTES");
    throw new ToolshedError(
      "invalid_input",
      "'" +
        field +
        "' is " +
        size +
        " bytes, and this call may upload at most " +
        limit +
        " in all: send a smaller file, or raise " +
        env +
        " on the server",
    );
  }
}

/** Decodes one base64 upload, refusing it (before decoding) above the upload limit. */
function decodeUpload(field: string, value: string, deps: ApiDeps, sent: { bytes: number }): Buffer {
  countUpload(field, Math.floor((value.replace(/=+$/, "").length * 3) / 4), deps, sent);
  return Buffer.from(value, "base64");
}

/**
 * Reads a file a multipart upload names by path: only a regular file whose real path (symlinks
 * resolved by the OS) lies inside the real path of an upload directory, opened without following a
 * last-moment symlink, its size checked on the opened file before reading, and no more read than that.
 * A relative path is taken against the first upload directory.
 */
async function readUpload(
  field: string,
  path: string,
  deps: ApiDeps,
  sent: { bytes: number },
): Promise<{ bytes: Buffer; name: string }> {
  const dirs = deps.config.uploadDir ?? [];
  const env = deps.api.baseUrlEnv.replace(/BASE_URL$/, "UPLOAD_DIR");
  if (dirs.length === 0) {
    throw new ToolshedError(
      "invalid_input",
      "'" +
        field +
        "': this server reads no files by path; send the file as base64, or set " +
        env +
        " on the server to the directories it may upload from",
    );
  }
  const outside = () =>
    new ToolshedError(
      "forbidden",
      "'" +
        field +
        "': " +
        JSON.stringify(path) +
        " is not a file inside the upload directories (" +
        env +
        "): name a file in " +
        dirs.join(", ") +
        ", or send it as base64",
    );
  const real = await realpath(resolve(dirs[0]!, path)).catch(() => undefined);
  if (real === undefined) {
    throw new ToolshedError(
      "not_found",
      "'" + field + "': no file at " + JSON.stringify(path) + " in the upload directories",
    );
  }
  const roots = await Promise.all(dirs.map((d) => realpath(d).catch(() => undefined)));
  const inside = roots.some((root) => {
    if (root === undefined) return false;
    const rel = relative(root, real);
    return rel !== "" && rel !== ".." && !rel.startsWith(".." + sep) && !isAbsolute(rel);
  });
  if (!inside) throw outside();
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => {
    throw outside();
  });
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw outside();
    countUpload(field, stat.size, deps, sent);
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const { bytesRead } = await handle.read(bytes, read, stat.size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return { bytes: bytes.subarray(0, read), name: basename(real) };
  } finally {
    await handle.close();
  }
}

interface FileInput {
  base64?: string;
  path?: string;
  filename?: string;
  content_type?: string;
}

/** The request body of a call: JSON, or raw bytes or text, with the media type to send. */
export async function requestBody(
  spec: OperationSpec<AnyObjectSchema, AnyObjectSchema>,
  args: Record<string, unknown>,
  deps: ApiDeps,
): Promise<{ json?: unknown; raw?: string | Uint8Array; contentType?: string }> {
  const b = spec.body;
  if (!b) return {};
  const sent = { bytes: 0 };
  switch (b.kind) {
    case "whole":
      return args[b.key] === undefined
        ? {}
        : { json: args[b.key], ...(b.contentType ? { contentType: b.contentType } : {}) };
    case "flat": {
      const picked = Object.fromEntries(b.keys.filter((k) => args[k] !== undefined).map((k) => [k, args[k]]));
      if (Object.keys(picked).length === 0 && spec.method === "GET") return {};
      return { json: picked, ...(b.contentType ? { contentType: b.contentType } : {}) };
    }
    case "text":
    case "binary": {
      const value = args[b.key];
      if (typeof value !== "string") return {};
      const named = b.typeKey ? args[b.typeKey] : undefined;
      const type = typeof named === "string" && named !== "" ? named : b.contentType;
      const raw = b.kind === "text" ? value : decodeUpload(b.key, value, deps, sent);
      return { raw, contentType: type };
    }
    case "form": {
      const form = new URLSearchParams();
      for (const k of b.keys) {
        const v = args[k];
        if (v === undefined) continue;
        for (const item of Array.isArray(v) ? v : [v]) form.append(k, scalar(item));
      }
      return { raw: form.toString(), contentType: "application/x-www-form-urlencoded" };
    }
    case "multipart": {
      // The platform's own multipart encoder (the boundary comes with its content type).
      const form = new FormData();
      for (const k of b.keys) {
        const v = args[k];
        if (v === undefined) continue;
        if (b.files.includes(k)) {
          for (const file of (Array.isArray(v) ? v : [v]) as FileInput[]) {
            if ((file.base64 === undefined) === (file.path === undefined)) {
              throw new ToolshedError(
                "invalid_input",
                "'" + k + "': give the file as base64 or as a path, one of the two",
              );
            }
            const { bytes, name } =
              file.path !== undefined
                ? await readUpload(k, file.path, deps, sent)
                : { bytes: decodeUpload(k, file.base64!, deps, sent), name: k };
            const blob = new Blob([bytes], { type: file.content_type ?? "application/octet-stream" });
            form.append(k, blob, file.filename ?? name);
          }
        } else {
          for (const item of Array.isArray(v) ? v : [v]) form.append(k, scalar(item));
        }
      }
      const encoded = new Response(form);
      return {
        raw: new Uint8Array(await encoded.arrayBuffer()),
        contentType: encoded.headers.get("content-type") ?? "multipart/form-data",
      };
    }
  }
}
