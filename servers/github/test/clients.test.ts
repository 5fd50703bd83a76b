import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { runClientMatrix } from "@toolshed/testing/contract";
import { afterAll, beforeAll } from "vitest";
import { FakeGitHub, octokitScenario, ownFixture } from "./fake-github.js";
import { TOKEN } from "./helpers.js";

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");
let fake: FakeGitHub;
beforeAll(async () => {
  fake = (await FakeGitHub.start()).load(
    octokitScenario("api.github.com/search-issues"),
    ownFixture("issues"),
  );
});
afterAll(async () => fake.close());

runClientMatrix("github", () => ({
  command: process.execPath,
  args: [bin, "--toolsets", "issues", "--read-only"],
  env: {
    GITHUB_API_URL: fake.url,
    GITHUB_PERSONAL_ACCESS_TOKEN: TOKEN,
    GITHUB_TOKEN: "",
    TOOLSHED_GITHUB_TOKEN: "",
  },
  call: {
    name: "get_issue",
    arguments: { owner: "octo-org", repo: "widgets", issue_number: 3, comments: 0 },
  },
}));
