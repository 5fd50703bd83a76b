// The real API descriptions the openapi bench generates servers from, all installed from npm except
// the Example API's (the repo's own upstream). GitHub's is @octokit/openapi 2.2.1 (2021): the newest
// release unpacks to ~450 MB, this one to 100 MB with the same description format.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const dirOf = (pkg: string) => dirname(require.resolve(`${pkg}/package.json`));

export interface DocumentCase {
  name: string;
  document: string;
  include?: string[];
  /** Only in a full run (slow to generate and load). */
  fullOnly?: boolean;
  /**
   * Search mode instead of example answers: the server's tools/list in search mode, and how often
   * search_tools puts the right tool in its top 3 for the realistic requests of
   * @toolshed/openapi's test/fixtures/github-tasks.json.
   */
  dynamic?: boolean;
}

export function documentCases(): DocumentCase[] {
  const exampleApi = join(dirOf("@toolshed/server-example-api"), "upstream/openapi.yaml");
  return [
    { name: "example-api", document: exampleApi },
    {
      name: "blockfrost",
      document: join(dirOf("@blockfrost/openapi"), "openapi.yaml"),
      include: ["tag:Cardano » Accounts", "tag:Cardano » Addresses", "tag:Cardano » Assets"],
    },
    {
      name: "blockfrost-all",
      document: join(dirOf("@blockfrost/openapi"), "openapi.yaml"),
      include: ["tag:Cardano*", "tag:IPFS*", "tag:Health*", "tag:Metrics*", "tag:Nut.link*"],
      fullOnly: true,
    },
    {
      name: "github-issues-pulls",
      document: join(dirOf("@octokit/openapi"), "generated/api.github.com.json"),
      include: ["tag:issues", "tag:pulls"],
    },
    {
      // Every tag a request in github-tasks.json needs: 425 of the document's 706 operations.
      name: "github-dynamic",
      document: join(dirOf("@octokit/openapi"), "generated/api.github.com.json"),
      include: [
        "issues",
        "pulls",
        "repos",
        "activity",
        "search",
        "actions",
        "gists",
        "users",
        "orgs",
        "git",
      ].map((tag) => `tag:${tag}`),
      dynamic: true,
    },
  ];
}
