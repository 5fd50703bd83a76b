// Request checks that follow openapi.yaml; each failure is a message naming the field and the rule.
import type { ResourceInput } from "./store.js";

export class BadRequest extends Error {}

const SORT_FIELDS = ["name", "created_at", "updated_at"] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export function intParam(
  query: URLSearchParams,
  name: string,
  { min, max, fallback }: { min: number; max?: number; fallback: number },
): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  const range = max === undefined ? `at least ${min}` : `from ${min} to ${max}`;
  if (raw.trim() === "" || !Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
    throw new BadRequest(`${name} must be an integer ${range} (got '${raw}')`);
  }
  return n;
}

export function stringParam(
  query: URLSearchParams,
  name: string,
  { minLength, maxLength, required }: { minLength: number; maxLength: number; required?: boolean },
): string | undefined {
  const raw = query.get(name);
  if (raw === null) {
    if (required) throw new BadRequest(`${name} is required (at least ${minLength} characters)`);
    return undefined;
  }
  if (raw.length < minLength || raw.length > maxLength) {
    throw new BadRequest(`${name} must be ${minLength} to ${maxLength} characters (got ${raw.length})`);
  }
  return raw;
}

export function enumParam<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new BadRequest(`${name} must be one of ${allowed.join(", ")} (got '${raw}')`);
  }
  return raw as T;
}

export function sortField(query: URLSearchParams): SortField {
  return enumParam(query, "sort_by", SORT_FIELDS, "name");
}

/** A ResourceInput body: name 3-100 characters, description up to 1000, category 1-50, nothing else. */
export function resourceInput(body: unknown): ResourceInput {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequest("the body must be a JSON object with name, description and category");
  }
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!["name", "description", "category"].includes(key)) {
      throw new BadRequest(`unknown field '${key}': send only name, description and category`);
    }
  }
  const text = (key: string, min: number, max: number, fallback?: string): string => {
    const value = record[key] ?? fallback;
    if (value === undefined) throw new BadRequest(`${key} is required (${min} to ${max} characters)`);
    if (typeof value !== "string") throw new BadRequest(`${key} must be a string`);
    if (value.length < min || value.length > max) {
      throw new BadRequest(`${key} must be ${min} to ${max} characters (got ${value.length})`);
    }
    return value;
  };
  return {
    name: text("name", 3, 100),
    description: text("description", 0, 1000, ""),
    category: text("category", 1, 50, "general"),
  };
}
