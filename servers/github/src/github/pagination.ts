import type { HttpHeaders } from "@toolshed/http-client";

export interface PageInfo {
  page: number;
  per_page: number;
  /** The next page number, when GitHub's Link header has a `next`. */
  next_page?: number;
  last_page?: number;
}

function pageOf(url: string): number | undefined {
  try {
    const value = new URL(url).searchParams.get("page");
    return value && /^\d+$/.test(value) ? Number(value) : undefined;
  } catch {
    return undefined;
  }
}

/** `rel` -> URL from a Link header (RFC 8288), e.g. `<https://…&page=2>; rel="next"`. */
export function parseLink(header: string | string[] | undefined): Record<string, string> {
  const text = Array.isArray(header) ? header.join(", ") : (header ?? "");
  const out: Record<string, string> = {};
  for (const match of text.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const rel = /rel="?([^";]+)"?/.exec(match[2] ?? "")?.[1];
    if (rel) for (const name of rel.trim().split(/\s+/)) out[name] = match[1]!;
  }
  return out;
}

/** Where a list response sits: the page asked for and, from `Link`, the next and last pages. */
export function pageInfo(headers: HttpHeaders, page: number, perPage: number): PageInfo {
  const links = parseLink(headers.link);
  const info: PageInfo = { page, per_page: perPage };
  const next = links.next && pageOf(links.next);
  const last = links.last && pageOf(links.last);
  if (next) info.next_page = next;
  if (last) info.last_page = last;
  return info;
}
