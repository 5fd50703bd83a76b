import { createHash } from "node:crypto";

export const MAX_TOOL_NAME = 64;

/** "listPets", "repos/list-for-org", "Get Pet By ID" -> "list_pets", "repos_list_for_org", "get_pet_by_id". */
export function snakeCase(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toLowerCase();
}

export function camelCase(text: string): string {
  const s = snakeCase(text).replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return s || "x";
}

export function kebabCase(text: string): string {
  return snakeCase(text).replace(/_/g, "-");
}

/** A tool name from an operationId (or method and path), at most `max` characters, never starting with a digit. */
export function toolName(
  operationId: string | undefined,
  method: string,
  path: string,
  max = MAX_TOOL_NAME,
): string {
  let name = operationId ? snakeCase(operationId) : fallbackName(method, path);
  if (!name) name = fallbackName(method, path);
  if (/^[0-9]/.test(name)) name = `op_${name}`;
  return bound(name, max);
}

/** "get /pets/{petId}/photos" -> "get_pets_by_pet_id_photos". */
function fallbackName(method: string, path: string): string {
  const parts = path
    .split("/")
    .filter(Boolean)
    .map((seg) => (/^\{.+\}$/.test(seg) ? `by_${snakeCase(seg.slice(1, -1))}` : snakeCase(seg)));
  return [method.toLowerCase(), ...parts].filter(Boolean).join("_");
}

/** Cuts a long name to `max`, ending in a short hash of the full name so cut names stay distinct. */
export function bound(name: string, max = MAX_TOOL_NAME): string {
  if (name.length <= max) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 6);
  return `${name.slice(0, max - 7).replace(/_+$/, "")}_${hash}`;
}

/** Makes each name unique in order of appearance: the second "x" becomes "x_2". */
export function uniqueNames(names: string[], max = MAX_TOOL_NAME): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    for (let n = 2; used.has(candidate); n++) {
      const suffix = `_${n}`;
      candidate = `${name.slice(0, max - suffix.length)}${suffix}`;
    }
    used.add(candidate);
    return candidate;
  });
}

/** Glob match of `*` wildcards, case-insensitive. */
export function matches(pattern: string, value: string): boolean {
  const re = new RegExp(
    "^" +
      pattern
        .split("*")
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*") +
      "$",
    "i",
  );
  return re.test(value);
}
