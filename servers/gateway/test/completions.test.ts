// completion/complete through the gateway: a real client (both eras) -> the gateway over HTTP -> real
// kit upstreams over HTTP, reached on 2026-07-28 and pinned to 2025. The kit fixture completes
// `test_prompt_with_arguments.arg1` and `test://template/{id}/data`'s `id`; `picker` completes from
// the other arguments (context.arguments) and has 150 candidates for one variable (the cap); `plain`
// has a prompt and a template without completers (it does not declare `completions`). API keys give
// principals: one whose virtual server reaches only the fixture, one without picker's scope.
import everything from "@toolshed/fixture-everything";
import { definePrompt, defineResource, defineServer, z } from "@toolshed/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bothEras, startGatewayOver, type GatewayOver, type TestGateway } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const CITIES: Record<string, string[]> = {
  fr: ["Paris", "Pau", "Lyon"],
  it: ["Palermo", "Parma", "Roma"],
};

/** What picker's completers were asked, so a refused completion can be shown never to reach it. */
const received: string[] = [];

const picker = defineServer({
  name: "picker",
  version: "0.0.0",
  tools: [],
  prompts: [
    definePrompt({
      name: "pick_city",
      title: "Pick a city",
      description: "A prompt about a city of a country; the city completes from the country given.",
      args: z.object({
        country: z.string().describe("Country code"),
        city: z.string().describe("City in that country"),
      }),
      complete: {
        city: (value, { arguments: given }) => {
          received.push(`city:${value}:${given.country ?? ""}`);
          return (CITIES[given.country ?? ""] ?? []).filter((c) => c.startsWith(value));
        },
      },
      handler: ({ country, city }) => ({
        messages: [{ role: "user", content: { type: "text", text: `Tell me about ${city}, ${country}.` } }],
      }),
    }),
  ],
  resources: [
    defineResource({
      name: "item",
      title: "Item",
      description: "An item by number; the number completes from 150 candidates.",
      mimeType: "text/plain",
      uriTemplate: "item://{n}",
      complete: {
        n: (value) => {
          received.push(`n:${value}`);
          return Array.from({ length: 150 }, (_, i) => String(i).padStart(3, "0")).filter((n) =>
            n.startsWith(value),
          );
        },
      },
      read: (uri, { n }) => [{ uri: uri.href, mimeType: "text/plain", text: `item ${String(n)}` }],
    }),
  ],
});

const plain = defineServer({
  name: "plain",
  version: "0.0.0",
  tools: [],
  prompts: [
    definePrompt({
      name: "greet",
      title: "Greet",
      description: "A prompt with an argument that does not complete.",
      args: z.object({ who: z.string().describe("Whom to greet") }),
      handler: ({ who }) => ({ messages: [{ role: "user", content: { type: "text", text: `Hi ${who}` } }] }),
    }),
  ],
  resources: [
    defineResource({
      name: "page",
      title: "Page",
      description: "A page by slug; the slug does not complete.",
      mimeType: "text/plain",
      uriTemplate: "page://{slug}",
      read: (uri) => [{ uri: uri.href, mimeType: "text/plain", text: "page" }],
    }),
  ],
});

const KEYS = {
  all: { key: "tsk_complete_all_0123456789", scopes: "picker:read" },
  fxonly: { key: "tsk_complete_fxonly_0123456789", scopes: "picker:read" },
  outsider: { key: "tsk_complete_outsider_0123456789", scopes: "other:read" },
};

let over: GatewayOver<"fx" | "picker" | "plain">;
let gw: TestGateway;
let bare: GatewayOver<"plain">;

beforeAll(async () => {
  over = await startGatewayOver(
    { fx: everything, picker, plain },
    (urls) => `upstreams:
${bothEras("fx", urls.fx)}${bothEras("picker", urls.picker, "    scopes: [picker:read]\n")}  plain:
    url: ${urls.plain}
virtualServers:
  fx-only:
    tools: ["fx__*"]
principals:
  fxonly: fx-only
defaultAccess: all
`,
    { keys: KEYS },
  );
  gw = over.gw;
  bare = await startGatewayOver({ plain }, (urls) => `upstreams:\n${bothEras("plain", urls.plain)}`);
  expect((await gw.deps()).gateway.upstreams.get("plain")!.completes).toBe(false);
});

afterAll(async () => {
  await over?.close();
  await bare?.close();
});

type Era = "legacy" | "modern";

function as(who: keyof typeof KEYS, era: Era) {
  return over.as(who, era);
}

const prompt = (name: string) => ({ type: "ref/prompt" as const, name });
const template = (uri: string) => ({ type: "ref/resource" as const, uri });

describe.each(["legacy", "modern"] as const)("a %s client", (era) => {
  it("sees the completions capability (some upstream completes)", async () => {
    const c = await as("all", era);
    try {
      expect(c.getServerCapabilities()?.completions).toEqual({});
    } finally {
      await c.close();
    }
  });

  describe.each(["", "-legacy"])("upstream era suffix '%s'", (suffix) => {
    it("completes a fixture prompt argument and template variable under the upstream's own names", async () => {
      const c = await as("all", era);
      try {
        const byPrompt = await c.complete({
          ref: prompt(`fx${suffix}__test_prompt_with_arguments`),
          argument: { name: "arg1", value: "test" },
        });
        expect(byPrompt.completion).toEqual({
          values: ["testValue1", "testValue2"],
          total: 2,
          hasMore: false,
        });
        // The template URI as the gateway lists it.
        const { resourceTemplates } = await c.listResourceTemplates();
        const uri = `fx${suffix}+test://template/{id}/data`;
        expect(resourceTemplates.map((t) => t.uriTemplate)).toContain(uri);
        const byTemplate = await c.complete({ ref: template(uri), argument: { name: "id", value: "1" } });
        expect(byTemplate.completion).toEqual({ values: ["1", "123"], total: 2, hasMore: false });
      } finally {
        await c.close();
      }
    });

    it("passes context.arguments to the upstream", async () => {
      const c = await as("all", era);
      try {
        received.length = 0;
        const fr = await c.complete({
          ref: prompt(`picker${suffix}__pick_city`),
          argument: { name: "city", value: "Pa" },
          context: { arguments: { country: "fr" } },
        });
        expect(fr.completion.values).toEqual(["Paris", "Pau"]);
        const it_ = await c.complete({
          ref: prompt(`picker${suffix}__pick_city`),
          argument: { name: "city", value: "Pa" },
          context: { arguments: { country: "it" } },
        });
        expect(it_.completion.values).toEqual(["Palermo", "Parma"]);
        const none = await c.complete({
          ref: prompt(`picker${suffix}__pick_city`),
          argument: { name: "city", value: "Pa" },
        });
        expect(none.completion.values).toEqual([]);
        expect(received).toEqual(["city:Pa:fr", "city:Pa:it", "city:Pa:"]);
      } finally {
        await c.close();
      }
    });

    it("keeps the cap at 100 values with the upstream's total and hasMore", async () => {
      const c = await as("all", era);
      try {
        const all = await c.complete({
          ref: template(`picker${suffix}+item://{n}`),
          argument: { name: "n", value: "" },
        });
        expect(all.completion.values).toHaveLength(100);
        expect(all.completion.values.slice(0, 2)).toEqual(["000", "001"]);
        expect(all.completion.total).toBe(150);
        expect(all.completion.hasMore).toBe(true);
        const few = await c.complete({
          ref: template(`picker${suffix}+item://{n}`),
          argument: { name: "n", value: "14" },
        });
        expect(few.completion).toEqual({
          values: ["140", "141", "142", "143", "144", "145", "146", "147", "148", "149"],
          total: 10,
          hasMore: false,
        });
      } finally {
        await c.close();
      }
    });
  });

  it("answers unknown prompts and templates as the kit does (-32602), a fixed resource with nothing", async () => {
    const c = await as("all", era);
    try {
      await expect(
        c.complete({ ref: prompt("fx__no_such_prompt"), argument: { name: "a", value: "" } }),
      ).rejects.toMatchObject({
        code: -32602,
        message: expect.stringMatching(/unknown prompt 'fx__no_such_prompt'; call prompts\/list/),
      });
      await expect(
        c.complete({
          ref: prompt("nobody__test_prompt_with_arguments"),
          argument: { name: "arg1", value: "" },
        }),
      ).rejects.toMatchObject({ code: -32602 });
      await expect(
        c.complete({ ref: template("fx+test://nothing/{x}"), argument: { name: "x", value: "" } }),
      ).rejects.toMatchObject({
        code: -32602,
        message: expect.stringMatching(/unknown resource template 'fx\+test:\/\/nothing\/\{x\}'/),
      });
      // The upstream's own template URI, without the gateway's prefix, is not one the gateway lists.
      await expect(
        c.complete({ ref: template("test://template/{id}/data"), argument: { name: "id", value: "" } }),
      ).rejects.toMatchObject({ code: -32602 });
      const fixed = await c.complete({
        ref: template("fx+test://static-text"),
        argument: { name: "x", value: "" },
      });
      expect(fixed.completion.values).toEqual([]);
      // An argument without a completer: nothing, from the upstream.
      const other = await c.complete({
        ref: prompt("fx__test_prompt_with_arguments"),
        argument: { name: "arg2", value: "t" },
      });
      expect(other.completion.values).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it("answers nothing for the prompts and templates of an upstream without completions", async () => {
    const c = await as("all", era);
    try {
      const byPrompt = await c.complete({
        ref: prompt("plain__greet"),
        argument: { name: "who", value: "a" },
      });
      expect(byPrompt.completion.values).toEqual([]);
      const byTemplate = await c.complete({
        ref: template("plain+page://{slug}"),
        argument: { name: "slug", value: "" },
      });
      expect(byTemplate.completion.values).toEqual([]);
      await expect(
        c.complete({ ref: prompt("plain__nope"), argument: { name: "who", value: "" } }),
      ).rejects.toMatchObject({ code: -32602 });
    } finally {
      await c.close();
    }
  });

  it("completes only what a principal's virtual server reaches", async () => {
    const c = await as("fxonly", era);
    try {
      received.length = 0;
      const fx = await c.complete({
        ref: prompt("fx__test_prompt_with_arguments"),
        argument: { name: "arg1", value: "o" },
      });
      expect(fx.completion.values).toEqual(["other"]);
      await expect(
        c.complete({ ref: prompt("picker__pick_city"), argument: { name: "city", value: "P" } }),
      ).rejects.toMatchObject({
        code: -32602,
        message: expect.stringMatching(/unknown prompt 'picker__pick_city'/),
      });
      await expect(
        c.complete({ ref: template("picker+item://{n}"), argument: { name: "n", value: "" } }),
      ).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/unknown resource template/) });
      expect(received).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it("refuses a caller without the upstream's scope with forbidden, before the upstream", async () => {
    const c = await as("outsider", era);
    try {
      received.length = 0;
      await expect(
        c.complete({
          ref: prompt("picker__pick_city"),
          argument: { name: "city", value: "P" },
          context: { arguments: { country: "fr" } },
        }),
      ).rejects.toMatchObject({
        code: -32003,
        message: expect.stringMatching(/prompt 'picker__pick_city' needs scope picker:read$/),
      });
      await expect(
        c.complete({ ref: template("picker-legacy+item://{n}"), argument: { name: "n", value: "" } }),
      ).rejects.toMatchObject({
        code: -32003,
        message: expect.stringMatching(
          /resource template 'picker-legacy\+item:\/\/\{n\}' needs scope picker:read$/,
        ),
      });
      expect(received).toEqual([]);
      // What the caller may use still completes.
      const fx = await c.complete({
        ref: prompt("fx-legacy__test_prompt_with_arguments"),
        argument: { name: "arg1", value: "testValue2" },
      });
      expect(fx.completion.values).toEqual(["testValue2"]);
    } finally {
      await c.close();
    }
  });

  it("does not declare completions when no upstream completes, and does not answer them", async () => {
    const c = await bare.as(undefined, era);
    try {
      expect(c.getServerCapabilities()?.prompts).toBeDefined();
      expect(c.getServerCapabilities()?.completions).toBeUndefined();
      const err = await c
        .complete({ ref: prompt("plain__greet"), argument: { name: "who", value: "" } })
        .catch((e: unknown) => e);
      // A 2025 client gets the JSON-RPC error; the 2026-07-28 HTTP lane sends it with status 404.
      const rpc =
        era === "legacy"
          ? err
          : (JSON.parse((err as { data: { text: string } }).data.text) as { error: unknown }).error;
      expect(rpc).toMatchObject({ code: -32601 });
    } finally {
      await c.close();
    }
  });
});
