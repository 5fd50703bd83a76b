// src/overrides.ts of a generated server: settings, headers, hidden fields and tool changes, checked
// at startup (a mistake is an OverrideError naming it).
import {
  ToolshedError,
  z as zod,
  type AnyObjectSchema,
  type AnyTool,
  type ToolAnnotations,
  type z,
} from "@toolshed/server";
import type { ApiDeps } from "./api.js";
import { operationTool, specOf } from "./operation.js";
import { fillTemplate, templateKeys } from "./templates.js";

/** A mistake in src/overrides.ts: the bin prints its message alone and exits 1 (no stack trace). */
export class OverrideError extends Error {
  override name = "OverrideError";
  constructor(message: string) {
    super("src/overrides.ts: " + message);
  }
}

/** Hand-written changes to one generated tool (see src/overrides.ts). */
export interface ToolOverride {
  /** A new name (snake_case: 1-64 of a-z, 0-9 and _) instead of the generated one. */
  name?: string;
  title?: string;
  description?: string;
  /** New descriptions of input fields, by field name. */
  params?: Record<string, string>;
  /** Input fields hidden from the model and filled from settings: field -> template, e.g. "{owner}". */
  fill?: Record<string, string>;
  annotations?: Partial<ToolAnnotations>;
  /** This tool's output budget in bytes of JSON Schema (0: no limit), instead of the generator's. */
  maxOutputSchemaBytes?: number;
}

/** A setting the document does not declare (a token, an account): a config field with its own env var. */
export interface SettingOverride {
  /** The env var holding it, e.g. "GITHUB_TOKEN" (it is also a --flag and a TOOLSHED_* variable). */
  env: string;
  description: string;
  /** Used when the env var is unset; without one the setting is optional. */
  default?: string;
}

/**
 * Everything src/overrides.ts can change. Templates are literal text with settings in braces
 * ("Bearer {githubToken}"): any setting of the generated config or of settings below.
 */
export interface Overrides {
  /** New settings, by config key (camelCase). */
  settings?: Record<string, SettingOverride>;
  /** Headers sent with every request; one whose settings are unset is left out. Never logged. */
  headers?: Record<string, string>;
  /** Query parameters sent with every request; one whose settings are unset is left out. */
  query?: Record<string, string>;
  /** Input fields hidden from the model in every tool that has them, filled from a template. */
  fill?: Record<string, string>;
  /** Changes to single tools, by generated tool name. */
  tools?: Record<string, ToolOverride>;
}

const OVERRIDE_KEYS = ["settings", "headers", "query", "fill", "tools"];

/**
 * The generated config with the settings of src/overrides.ts added (each a --flag, a TOOLSHED_*
 * variable and its env var); a template naming a setting that exists nowhere is a startup error.
 */
export function withSettings<S extends AnyObjectSchema>(schema: S, overrides: Overrides): S {
  checkShape(overrides);
  const extra: Record<string, z.ZodType> = {};
  for (const [key, s] of Object.entries(overrides.settings ?? {})) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(key))
      throw new OverrideError("setting '" + key + "' must be camelCase (like githubToken)");
    if (key in schema.shape)
      throw new OverrideError("setting '" + key + "' is already a generated setting; give it another name");
    if (!/^[A-Z_][A-Z0-9_]*$/.test(s.env))
      throw new OverrideError(
        "setting '" + key + "': env '" + s.env + "' must be an env var name (like GITHUB_TOKEN)",
      );
    const base = zod.string().describe(s.description);
    extra[key] = (s.default === undefined ? base.optional() : base.default(s.default)).meta({ env: s.env });
  }
  const known = new Set([...Object.keys(schema.shape), ...Object.keys(extra)]);
  const templates: [string, string][] = [
    ...Object.entries(overrides.headers ?? {}).map(([k, t]): [string, string] => ["headers." + k, t]),
    ...Object.entries(overrides.query ?? {}).map(([k, t]): [string, string] => ["query." + k, t]),
    ...Object.entries(overrides.fill ?? {}).map(([k, t]): [string, string] => ["fill." + k, t]),
    ...Object.entries(overrides.tools ?? {}).flatMap(([tool, o]) =>
      Object.entries(o.fill ?? {}).map(([k, t]): [string, string] => ["tools." + tool + ".fill." + k, t]),
    ),
  ];
  for (const [where, template] of templates) {
    for (const key of templateKeys(template)) {
      if (!known.has(key)) {
        throw new OverrideError(
          where +
            " uses '{" +
            key +
            "}', which is no setting: add it under settings, or use one of " +
            [...known].join(", "),
        );
      }
    }
  }
  return schema.extend(extra) as unknown as S;
}

function checkShape(overrides: Overrides): void {
  for (const key of Object.keys(overrides)) {
    if (!OVERRIDE_KEYS.includes(key)) {
      throw new OverrideError(
        "unknown key '" +
          key +
          "' (known: " +
          OVERRIDE_KEYS.join(", ") +
          "); changes to one tool go under tools: { " +
          key +
          ": { ... } }",
      );
    }
  }
}

/** The tool names after the renames of src/overrides.ts (for the contract test). */
export function overriddenNames(names: readonly string[], overrides: Overrides): string[] {
  return names.map((n) => overrides.tools?.[n]?.name ?? n);
}

/** Applies src/overrides.ts to the generated tools; a mistake in it is an OverrideError at startup. */
export function applyOverrides(tools: readonly AnyTool[], overrides: Overrides): AnyTool[] {
  checkShape(overrides);
  const byTool = overrides.tools ?? {};
  const names = tools.map((t) => t.name);
  for (const name of Object.keys(byTool)) {
    if (!names.includes(name)) {
      throw new OverrideError(
        "tools." +
          name +
          " names a tool the document does not define (any more): remove it, or move it to the tool's new name",
      );
    }
  }
  const envOf = (key: string) => overrides.settings?.[key]?.env ?? key;
  const result = tools.map((original) => {
    const o = byTool[original.name] ?? {};
    const spec = specOf(original);
    let tool: AnyTool =
      o.maxOutputSchemaBytes !== undefined && spec
        ? operationTool({ ...spec, maxOutputSchemaBytes: o.maxOutputSchemaBytes })
        : original;
    let input = tool.input;
    const shape = () => input.shape as Record<string, z.ZodType>;
    for (const [field, text] of Object.entries(o.params ?? {})) {
      const current = shape()[field];
      if (!current)
        throw new OverrideError(
          "tools." + original.name + ".params: the tool has no input field '" + field + "'",
        );
      input = input.extend({ [field]: current.describe(text) });
    }
    const fill: Record<string, string> = {};
    for (const [field, template] of Object.entries(overrides.fill ?? {}))
      if (shape()[field]) fill[field] = template;
    for (const [field, template] of Object.entries(o.fill ?? {})) {
      if (!shape()[field])
        throw new OverrideError(
          "tools." + original.name + ".fill: the tool has no input field '" + field + "'",
        );
      fill[field] = template;
    }
    if (Object.keys(fill).length > 0) {
      const fields = { ...shape() };
      input = input.omit(Object.fromEntries(Object.keys(fill).map((f) => [f, true as const])));
      const handler = tool.handler.bind(tool);
      tool = {
        ...tool,
        handler: (args: Record<string, unknown>, ctx: Parameters<AnyTool["handler"]>[1]) => {
          const filled: Record<string, unknown> = { ...args };
          for (const [field, template] of Object.entries(fill)) {
            const value = fillTemplate(template, (ctx.deps as ApiDeps).config);
            const schema = fields[field]!;
            if (value === undefined) {
              if (schema.safeParse(undefined).success) continue;
              throw new ToolshedError(
                "invalid_input",
                "'" +
                  field +
                  "' is filled from the server's settings (" +
                  template +
                  "), which are not set: set " +
                  templateKeys(template).map(envOf).join(" and ") +
                  " and restart the server",
              );
            }
            // A number or boolean setting arrives as text: take the JSON reading when the text does not fit.
            let parsed = schema.safeParse(value);
            if (!parsed.success) {
              try {
                parsed = schema.safeParse(JSON.parse(value));
              } catch {
                // not JSON either: the first error stands
              }
            }
            if (!parsed.success) {
              throw new ToolshedError(
                "invalid_input",
                "'" +
                  field +
                  "' is filled from the server's settings (" +
                  template +
                  "), whose value does not fit it: " +
                  (parsed.error.issues[0]?.message ?? "invalid") +
                  "; fix " +
                  templateKeys(template).map(envOf).join(" and "),
              );
            }
            filled[field] = parsed.data;
          }
          return handler(filled, ctx);
        },
      };
    }
    const name = o.name ?? tool.name;
    if (!/^[a-z0-9_]{1,64}$/.test(name)) {
      throw new OverrideError(
        "tools." + original.name + ".name '" + name + "' must be 1-64 of a-z, 0-9 and _",
      );
    }
    return {
      ...tool,
      name,
      input,
      ...(o.title ? { title: o.title } : {}),
      ...(o.description ? { description: o.description } : {}),
      annotations: { ...tool.annotations, ...o.annotations },
    };
  });
  const seen = new Set<string>();
  for (const t of result) {
    if (seen.has(t.name))
      throw new OverrideError("two tools would be named '" + t.name + "': rename one of them");
    seen.add(t.name);
  }
  return result;
}
