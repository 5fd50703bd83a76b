// Parameter values the OpenAPI way (styles and explode) for paths, queries, headers and forms.

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Arrays and objects the OpenAPI way: "a,b", or "k,v,k2,v2" / "k=v,k2=v2" (exploded). */
export function joined(value: unknown, sep: string, explode: boolean): string {
  if (Array.isArray(value)) return value.map((v) => scalar(v)).join(sep);
  if (isObject(value)) {
    return Object.entries(value)
      .map(([k, v]) => (explode ? k + "=" + scalar(v) : k + sep + scalar(v)))
      .join(sep);
  }
  return scalar(value);
}

/** A query parameter's name=value pairs by its style (form, spaceDelimited, pipeDelimited, deepObject). */
export function queryPairs(
  name: string,
  value: unknown,
  style: string,
  explode: boolean,
): [string, string][] {
  if (style === "deepObject" && isObject(value)) {
    return Object.entries(value).map(([k, v]): [string, string] => [name + "[" + k + "]", scalar(v)]);
  }
  if (Array.isArray(value)) {
    if (explode) return value.map((v): [string, string] => [name, scalar(v)]);
    const sep = style === "spaceDelimited" ? " " : style === "pipeDelimited" ? "|" : ",";
    return [[name, value.map((v) => scalar(v)).join(sep)]];
  }
  if (isObject(value)) {
    if (explode) return Object.entries(value).map(([k, v]): [string, string] => [k, scalar(v)]);
    // Non-exploded objects are key, value, key, value joined by the style's delimiter.
    const sep = style === "spaceDelimited" ? " " : style === "pipeDelimited" ? "|" : ",";
    return [[name, joined(value, sep, false)]];
  }
  return [[name, scalar(value)]];
}

/** A path parameter's encoded segment by its style (simple, label, matrix). */
export function pathValue(value: unknown, name: string, style: string, explode: boolean): string {
  const enc = (v: unknown) => encodeURIComponent(scalar(v));
  // An object's entries: "k=v" joined by `sep` when exploded, else "k,v" joined by commas.
  const entries = (obj: Json, sep: string) =>
    Object.entries(obj)
      .map(([k, v]) => encodeURIComponent(k) + (explode ? "=" : ",") + enc(v))
      .join(explode ? sep : ",");
  if (style === "label") {
    if (Array.isArray(value)) return "." + value.map(enc).join(explode ? "." : ",");
    if (isObject(value)) return "." + entries(value, ".");
    return "." + enc(value);
  }
  if (style === "matrix") {
    if (Array.isArray(value)) {
      return explode
        ? value.map((v) => ";" + name + "=" + enc(v)).join("")
        : ";" + name + "=" + value.map(enc).join(",");
    }
    if (isObject(value)) return explode ? ";" + entries(value, ";") : ";" + name + "=" + entries(value, ",");
    return ";" + name + "=" + enc(value);
  }
  if (Array.isArray(value)) return value.map(enc).join(",");
  if (isObject(value)) return entries(value, ",");
  return enc(value);
}

/** A value as text: strings as they are, numbers and booleans printed, anything else as JSON. */
export function scalar(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
