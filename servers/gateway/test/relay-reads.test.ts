// Questions relayed through the gateway during prompts/get and resources/read, as during tools/call
// (relay.test.ts): a real client (both eras) -> the gateway over HTTP -> real upstreams over HTTP,
// reached on 2026-07-28 (input_required, retried with the upstream's requestState) and pinned to 2025
// (an elicitation/create request during the request). The prompt is the kit fixture's
// `test_input_required_result_prompt`; the resource is served by a small kit server whose
// `resources/read` asks (the kit's own resources cannot ask; its forwarding API can).
import everything from "@toolshed/fixture-everything";
import { defineServer, type ElicitationSchema } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bothEras, startGatewayOver, type GatewayOver } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const WORD: ElicitationSchema = {
  type: "object",
  properties: { word: { type: "string", description: "The word to unlock the note with." } },
  required: ["word"],
};

/** An upstream with one resource whose read asks the caller for a word first. */
const asker = defineServer({
  name: "asker",
  version: "0.0.0",
  tools: [],
  forward: {
    listTools: () => [],
    callTool: () => Promise.resolve(undefined),
    resources: {
      list: () => [{ uri: "note://locked", name: "locked", mimeType: "text/plain" }],
      templates: () => [],
      async read(_deps, uri, ctx) {
        const answer = await ctx.ask!.ask(WORD, "Which word unlocks the note?", { key: "word" });
        const text =
          answer.action === "accept" ? `unlocked with ${String(answer.content.word)}` : "still locked";
        return { contents: [{ uri, mimeType: "text/plain", text }] };
      },
    },
  },
});

let over: GatewayOver<"fx" | "notes">;

beforeAll(async () => {
  over = await startGatewayOver(
    { fx: everything, notes: asker },
    (urls) => `upstreams:\n${bothEras("fx", urls.fx)}${bothEras("notes", urls.notes)}`,
  );
});

afterAll(async () => {
  await over?.close();
});

type Answer = "accept" | "decline" | "cannot";

/** A client that answers form questions as told (or declares no elicitation), and what it was asked. */
async function client(era: "legacy" | "modern", answer: Answer, content: Record<string, string>) {
  const asked: string[] = [];
  const c = await over.as(undefined, era, answer === "cannot" ? {} : { elicitation: { form: {} } });
  if (answer !== "cannot") {
    c.setRequestHandler("elicitation/create", (request) => {
      asked.push(String((request.params as { message?: string }).message));
      return Promise.resolve(answer === "accept" ? { action: "accept", content } : { action: "decline" });
    });
  }
  return { c, asked };
}

describe.each([
  ["legacy", ""],
  ["legacy", "-legacy"],
  ["modern", ""],
  ["modern", "-legacy"],
] as const)("a %s client, upstream era %s", (era, suffix) => {
  const prompt = `fx${suffix}__test_input_required_result_prompt`;
  const uri = `notes${suffix}+note://locked`;

  it("relays the prompt's question; the answer reaches the upstream", async () => {
    const { c, asked } = await client(era, "accept", { context: "the Q3 report" });
    try {
      const result = await c.getPrompt({ name: prompt, arguments: {} });
      expect(asked).toEqual(["What context should the prompt use?"]);
      expect(result.messages[0]?.content).toEqual({ type: "text", text: "Use this context: the Q3 report" });
    } finally {
      await c.close();
    }
  });

  it("relays a decline to the prompt's question", async () => {
    const { c, asked } = await client(era, "decline", {});
    try {
      const result = await c.getPrompt({ name: prompt, arguments: {} });
      expect(asked).toHaveLength(1);
      expect(result.messages[0]?.content).toEqual({ type: "text", text: "Use this context: (none given)" });
    } finally {
      await c.close();
    }
  });

  it("relays the resource's question; accepted and declined", async () => {
    const yes = await client(era, "accept", { word: "sesame" });
    try {
      const result = await yes.c.readResource({ uri });
      expect(yes.asked).toEqual(["Which word unlocks the note?"]);
      expect(result.contents).toEqual([{ uri, mimeType: "text/plain", text: "unlocked with sesame" }]);
    } finally {
      await yes.c.close();
    }
    const no = await client(era, "decline", {});
    try {
      const result = await no.c.readResource({ uri });
      expect(no.asked).toHaveLength(1);
      expect(result.contents).toEqual([{ uri, mimeType: "text/plain", text: "still locked" }]);
    } finally {
      await no.c.close();
    }
  });

  it("a client that cannot be asked gets an error naming elicitation, not a hang", async () => {
    const { c } = await client(era, "cannot", {});
    try {
      // A 2026-07-28 upstream is told the caller declared nothing and refuses (-32021, passed on); a
      // 2025 upstream asks anyway and fails on the gateway's answer, naming the capability.
      const said =
        suffix === ""
          ? () => /this needs the client's 'elicitation' capability, which this client did not declare/
          : (method: string) =>
              new RegExp(
                `upstream '(notes|fx)-legacy' answered: .*'${method}' failed: the caller cannot answer 'elicitation/create' \\(it did not declare the 'elicitation' capability\\)`,
              );
      await expect(c.getPrompt({ name: prompt, arguments: {} })).rejects.toThrow(said("prompts/get"));
      await expect(c.readResource({ uri })).rejects.toThrow(said("resources/read"));
    } finally {
      await c.close();
    }
  });
});
