import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { nameProblem, serverNames } from "../src/names.js";

const root = resolve(import.meta.dirname, "../../..");

describe("server names", () => {
  it("accepts a new kebab-case name and spells it every way the template needs", () => {
    expect(nameProblem("issue-tracker", root)).toBeNull();
    expect(nameProblem("  weather2  ", root)).toBeNull();
    expect(serverNames("issue-tracker")).toEqual({
      name: "issue-tracker",
      title: "Issue Tracker",
      pascal: "IssueTracker",
      constant: "ISSUE_TRACKER",
    });
  });

  it("refuses names that are not kebab-case, suggesting one that is", () => {
    expect(nameProblem("Bad_Name", root)).toMatch(
      /"Bad_Name" is not a kebab-case server name.*\(e\.g\. "bad-name"\)/,
    );
    expect(nameProblem("issueTracker", root)).toMatch(/e\.g\. "issue-tracker"/);
    for (const bad of ["9lives", "-x", "x-", "a--b", "a b", "a/b", "../etc"]) {
      expect(nameProblem(bad, root), bad).toMatch(/not a kebab-case server name/);
    }
  });

  it("asks for a name when there is none, with an example command", () => {
    expect(nameProblem("", root)).toMatch(/pnpm gen server weather/);
    expect(nameProblem(undefined, root)).toMatch(/Give the new server a name/);
  });

  it("refuses a name that is too long for the Kubernetes and image names it becomes", () => {
    expect(nameProblem(`a${"-b".repeat(20)}`, root)).toMatch(/41 characters; keep a server name to 40/);
  });

  it("refuses an existing server and a name the dev stack already uses", () => {
    expect(nameProblem("data-analytics", root)).toMatch(/servers\/data-analytics already exists/);
    expect(nameProblem("postgres", root)).toMatch(/already used by docker-compose\.dev\.yaml \(services\)/);
    expect(nameProblem("otel-collector", root)).toMatch(/already used by/);
  });
});
