// `pnpm gen server <name>`: a new Toolshed server from the template, wired into the dev stack and the
// reliability suites (bench/package.json and bench/src/reliability/targets.ts).
// Run through @turbo/gen (what `turbo gen` runs); `--args <name>` answers the prompt non-interactively.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import type { PlopTypes } from "@turbo/gen";
import { nameProblem, serverNames } from "./src/names.js";
import {
  addBenchDependency,
  addComposeService,
  addPrometheusJob,
  addReadmeRow,
  addReliabilityTarget,
} from "./src/wire.js";

interface Answers {
  name: string;
  turbo: { paths: { root: string } };
}

export default function generator(plop: PlopTypes.NodePlopAPI): void {
  plop.setGenerator("server", {
    description:
      "A new MCP server in servers/<name> from the Toolshed template, wired into the dev stack and the reliability suites",
    prompts: [
      {
        type: "input",
        name: "name",
        message: 'Server name (kebab-case, e.g. "issue-tracker"):',
        validate: (input: string) => nameProblem(input, rootOf()) ?? true,
      },
    ],
    actions: (data) => {
      const answers = data as Answers;
      const root = answers.turbo.paths.root;
      // Prompts answered through --args are not always validated by the runner: check again, first.
      const problem = nameProblem(answers.name, root);
      if (problem) return [() => Promise.reject(new Error(problem))];
      const names = serverNames(answers.name.trim());
      Object.assign(answers, names);
      const written = [
        `servers/${names.name}`,
        `deploy/k8s/overlays/${names.name}`,
        `.changeset/${names.name}.md`,
      ];
      const wire = (fn: typeof addComposeService) => () => {
        const r = fn(root, names);
        if (r.changed) written.push(r.file);
        return `${r.file}: ${r.note}`;
      };
      return [
        {
          type: "addMany",
          destination: `${root}/servers/${names.name}`,
          base: "templates/server",
          templateFiles: "templates/server/**/*",
          globOptions: { dot: true },
          abortOnFail: true,
        },
        {
          type: "addMany",
          destination: `${root}/deploy/k8s/overlays/${names.name}`,
          base: "templates/overlay",
          templateFiles: "templates/overlay/*",
          skip: () => (existsSync(join(root, "deploy/k8s")) ? undefined : "no deploy/k8s here"),
        },
        {
          type: "add",
          path: `${root}/.changeset/${names.name}.md`,
          templateFile: "templates/changeset.md.hbs",
        },
        wire(addComposeService),
        wire(addPrometheusJob),
        wire(addBenchDependency),
        wire(addReliabilityTarget),
        wire(addReadmeRow),
        () => {
          // The workspace's own Prettier, so every generated and edited file is already formatted.
          const prettier = join(root, "node_modules/prettier/bin/prettier.cjs");
          const files = written.filter((f) => existsSync(join(root, f)));
          execFileSync(process.execPath, [prettier, "--write", "--log-level", "warn", ...files], {
            cwd: root,
            stdio: ["ignore", "ignore", "inherit"],
          });
          return `formatted ${files.length} paths with prettier`;
        },
        () =>
          `next: pnpm install, then pnpm exec turbo run build typecheck lint --filter=@toolshed/server-${names.name}... ` +
          `and pnpm exec vitest run ${relative(root, join(root, "servers", names.name))}; ` +
          `its attack suite: pnpm exec vitest run bench/test/attacks.test.ts -t "attacks on ${names.name} "`,
      ];
    },
  });
}

/** The repository root while prompting (the runner passes it to actions, not to validate). */
function rootOf(): string {
  let dir = process.cwd();
  while (!existsSync(join(dir, "turbo.json")) || !existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const up = join(dir, "..");
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}
