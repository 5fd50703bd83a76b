import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownFixture } from "./fake-github.js";
import { harness, type Harness } from "./helpers.js";

/* repo:// resources with completion, and the workflow prompts, over the loopback GitHub. */

describe("repo:// resources and prompts", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness([ownFixture("repos"), ownFixture("parity")]);
  });
  afterAll(() => h.close());

  it("lists the official server's repo:// templates and reads a file and a directory", async () => {
    const { resourceTemplates } = await h.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      "repo://{owner}/{repo}/contents/{+path}",
      "repo://{owner}/{repo}/refs/heads/{branch}/contents/{+path}",
      "repo://{owner}/{repo}/refs/tags/{tag}/contents/{+path}",
      "repo://{owner}/{repo}/sha/{sha}/contents/{+path}",
    ]);
    const file = await h.client.readResource({ uri: "repo://octo-org/widgets/contents/src/app.ts" });
    const c = file.contents[0] as { mimeType: string; text: string };
    expect(c.mimeType).toBe("text/plain");
    expect(c.text.startsWith("export function widget()")).toBe(true);
    const dir = await h.client.readResource({ uri: "repo://octo-org/widgets/contents/src" });
    expect((dir.contents[0] as { text: string }).text).toBe("app.ts\nlib/");
  });

  it("completes paths and branches from GitHub", async () => {
    const paths = await h.client.complete({
      ref: { type: "ref/resource", uri: "repo://{owner}/{repo}/contents/{+path}" },
      argument: { name: "path", value: "src/a" },
      context: { arguments: { owner: "octo-org", repo: "widgets" } },
    });
    expect(paths.completion.values).toEqual(["src/app.ts"]);
    const branches = await h.client.complete({
      ref: { type: "ref/resource", uri: "repo://{owner}/{repo}/refs/heads/{branch}/contents/{+path}" },
      argument: { name: "branch", value: "fea" },
      context: { arguments: { owner: "octo-org", repo: "widgets" } },
    });
    expect(branches.completion.values).toEqual(["feature/login"]);
  });

  it("offers the review and triage prompts", async () => {
    const { prompts } = await h.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(["review_pull_request", "triage_issues"]);
    const review = await h.client.getPrompt({
      name: "review_pull_request",
      arguments: { owner: "octo-org", repo: "widgets", pull_number: "7" },
    });
    const t = (review.messages[0]!.content as { text: string }).text;
    expect(t).toContain("octo-org/widgets#7");
    expect(t).toContain("pull_request_read method=diff");
    expect(t).toMatch(/untrusted/);
  });
});
