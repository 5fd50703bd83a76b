#!/usr/bin/env node
// A package's `check` script: `tsc --noEmit` and `eslint .` in one process, on one TypeScript program.
//   node <root>/scripts/check.mjs [--ignore-pattern <glob>]…   (from the package's folder)
// Type-aware lint builds and checks the same program as the typecheck (the package's tsconfig.json), so
// running them apart did that work twice: here the program is built once, its diagnostics reported as
// tsc reports them, and ESLint (the workspace's eslint.config.js) lints `.` with that program
// (typescript-eslint's `parserOptions.programs`). The test line runs `turbo run build check`; the
// `typecheck` and `lint` scripts stay for running one of the two. Exits 1 on a type error or a lint
// error, 2 on bad arguments.
import { createRequire } from "node:module";
import { join } from "node:path";

const cwd = process.cwd();
const require = createRequire(join(cwd, "package.json"));
const ts = require("typescript");
const { ESLint } = require("eslint");

const ignorePatterns = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--ignore-pattern" && args[i + 1]) ignorePatterns.push(args[++i]);
  else {
    process.stderr.write(
      `check: unknown argument '${args[i]}'; it takes --ignore-pattern <glob> (as eslint does)\n`,
    );
    process.exit(2);
  }
}

const configPath = join(cwd, "tsconfig.json");
if (!ts.sys.fileExists(configPath)) {
  process.stderr.write(`check: no tsconfig.json in ${cwd}; run it from a package's folder (pnpm check)\n`);
  process.exit(2);
}
const formatHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => cwd,
  getNewLine: () => "\n",
};
const report = (diagnostics) =>
  process.stderr.write(
    process.stderr.isTTY
      ? ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost)
      : ts.formatDiagnostics(diagnostics, formatHost),
  );
const configErrors = [];
const parsed = ts.getParsedCommandLineOfConfigFile(
  configPath,
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => configErrors.push(d) },
);
if (!parsed || configErrors.length || parsed.errors.length) {
  report([...configErrors, ...(parsed?.errors ?? [])]);
  process.exit(1);
}
const program = ts.createProgram({
  rootNames: parsed.fileNames,
  options: { ...parsed.options, noEmit: true },
  projectReferences: parsed.projectReferences,
  configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(parsed),
});
const typeErrors = ts.getPreEmitDiagnostics(program);
if (typeErrors.length) report(typeErrors);

const eslint = new ESLint({
  cwd,
  ignorePatterns,
  overrideConfig: { languageOptions: { parserOptions: { programs: [program], project: null } } },
});
const results = await eslint.lintFiles(["."]);
const text = await (await eslint.loadFormatter("stylish")).format(results);
if (text) process.stdout.write(text);
const lintErrors = results.reduce((n, r) => n + r.errorCount, 0);
if (typeErrors.length || lintErrors) {
  process.stderr.write(`check: ${typeErrors.length} type error(s), ${lintErrors} lint error(s)\n`);
  process.exit(1);
}
