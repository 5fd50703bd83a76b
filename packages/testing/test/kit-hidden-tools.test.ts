import { defineServer, defineTool, z } from "@toolshed/server";
import { definitionProblems } from "@toolshed/server/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callTool, recordChanges, startTestHttpServer, type TestHttpServer } from "../src/index.js";

// Hidden tools: left out of tools/list until a handler shows them, then listed to every connection
// of the process, announced with tools/list_changed on both protocol eras.
const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const reveal = defineTool({
  name: "reveal",
  title: "Reveal tools",
  description: "Shows the named hidden tools; answers the names newly listed.",
  input: z.object({ names: z.array(z.string()).describe("Tool names") }),
  output: z.object({ shown: z.array(z.string()) }),
  annotations: { ...hints, readOnlyHint: false, idempotentHint: true },
  handler: ({ names }, ctx) => ({ shown: ctx.showTools(names) }),
});
const secret = defineTool({
  name: "secret",
  title: "A hidden tool",
  description: "A tool that is not listed until revealed; answers 42.",
  input: z.object({}),
  output: z.object({ answer: z.number() }),
  annotations: hints,
  hidden: true,
  handler: () => ({ answer: 42 }),
});

const server = defineServer({
  name: "hidden-tools",
  version: "1.0.0",
  tools: [reveal, secret],
  notifications: { toolListChanged: true },
});

const names = (tools: { name: string }[]) => tools.map((t) => t.name).sort();

describe("hidden tools shown at run time", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(server);
  });
  afterAll(async () => srv.close(1_000));

  it("are listed once shown, with tools/list_changed to 2025 and 2026-07-28 clients", async () => {
    const legacy = await srv.connect();
    const modern = await srv.connect({}, undefined, "modern");
    try {
      const legacySeen = recordChanges(legacy);
      const modernSeen = recordChanges(modern);
      const sub = await modern.listen({ toolsListChanged: true });
      expect(names((await legacy.listTools()).tools)).toEqual(["reveal"]);
      expect(names((await modern.listTools()).tools)).toEqual(["reveal"]);

      const first = await callTool(modern, "reveal", { names: ["secret", "reveal", "nope"] });
      expect(first.data).toEqual({ shown: ["secret"] });
      await legacySeen.until("notifications/tools/list_changed");
      await modernSeen.until("notifications/tools/list_changed");
      expect(names((await legacy.listTools()).tools)).toEqual(["reveal", "secret"]);
      expect(names((await modern.listTools()).tools)).toEqual(["reveal", "secret"]);
      expect((await callTool(legacy, "secret", {})).data).toEqual({ answer: 42 });

      // Showing again changes nothing and announces nothing.
      const again = await callTool(legacy, "reveal", { names: ["secret"] });
      expect(again.data).toEqual({ shown: [] });
      await new Promise((r) => setTimeout(r, 200));
      expect(legacySeen.seen).toHaveLength(1);
      await sub.close();
    } finally {
      await Promise.allSettled([legacy.close(), modern.close()]);
    }
  });

  it("need the tool list change declared", () => {
    const undeclared = defineServer({ name: "hidden-tools", version: "1.0.0", tools: [reveal, secret] });
    expect(definitionProblems(undeclared).join("\n")).toMatch(/declare notifications\.toolListChanged/);
  });
});
