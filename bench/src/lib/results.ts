import { mkdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from "node:os";
import { dirname } from "node:path";

const HEADER = `# Benchmark results

Written by the benchmarks in this folder (\`pnpm bench:<name>\`); each one rewrites only its own
section. Figures are medians of alternating rounds against a baseline measured in the same run, on
the machine noted in each section. Compare ratios, not absolute numbers, across machines.
`;

/** Replaces (or appends) the `<!-- name:start -->` ... `<!-- name:end -->` section of a results file. */
export function replaceSection(document: string | undefined, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n\n${body.trim()}\n\n${end}`;
  const text = document ?? HEADER;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from !== -1 && to !== -1) return text.slice(0, from) + section + text.slice(to + end.length);
  return `${text.trimEnd()}\n\n${section}\n`;
}

export async function updateResultsMarkdown(path: string, name: string, body: string): Promise<void> {
  let current: string | undefined;
  try {
    current = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await writeFile(path, replaceSection(current, name, body));
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** A markdown table padded the way Prettier lays it out, so the generated file stays formatted. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export interface MachineInfo {
  cpus: number;
  cpu_model: string;
  memory_gib: number;
  node: string;
  platform: string;
  loadavg_1m_start: number;
  loadavg_1m_end?: number;
}

export function machineInfo(): MachineInfo {
  return {
    cpus: availableParallelism(),
    cpu_model: cpus()[0]?.model.trim() ?? "unknown",
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${platform()} ${release()}`,
    loadavg_1m_start: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
