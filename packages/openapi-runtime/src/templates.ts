// Settings in braces ("Bearer {githubToken}") in the templates of src/overrides.ts.

/** A setting named in braces: "{githubToken}". */
const SETTING_REF = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** The template with its settings filled in, or undefined while one of them is unset. */
export function fillTemplate(
  template: string,
  config: Readonly<Record<string, unknown>>,
): string | undefined {
  let missing = false;
  const out = template.replace(SETTING_REF, (_, key: string) => {
    const v = config[key];
    if (v === undefined || v === null || v === "") missing = true;
    return missing ? "" : String(v);
  });
  return missing ? undefined : out;
}

/** The settings a template names, in order. */
export const templateKeys = (template: string): string[] =>
  [...template.matchAll(SETTING_REF)].map((m) => m[1]!);
