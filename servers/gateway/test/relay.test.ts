// Questions relayed through the gateway: a real client (both eras) -> the gateway over HTTP -> a real
// data-analytics server over HTTP, reached on 2026-07-28 (input_required, retried with the upstream's
// requestState) and pinned to 2025 (an elicitation/create request during the call). Replacing a
// dataset asks the person to confirm: accepted, declined, and a client that cannot be asked.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHttpServer } from "@toolshed/server";
import dataAnalytics, { configSchema as daConfig } from "@toolshed/server-data-analytics";
import { connectHttpClient } from "@toolshed/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startGateway, textOf, type TestGateway, type ToolResultShape } from "./stack.js";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let dir: string;
let da: { url: string; close(): Promise<void> };
let gw: TestGateway;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gateway-relay-"));
  da = await startHttpServer(
    dataAnalytics,
    {},
    { logLevel: "silent", config: daConfig.parse({ dataDir: join(dir, "da") }) },
  );
  gw = await startGateway(
    `upstreams:\n  da:\n    url: ${da.url}\n  da-legacy:\n    url: ${da.url}\n    protocol: "2025"\n`,
  );
  const { gateway } = await gw.deps();
  expect(gateway.down()).toEqual([]);
  expect(gateway.upstreams.get("da")!.era).toBe("modern");
  expect(gateway.upstreams.get("da-legacy")!.era).toBe("legacy");
});

afterAll(async () => {
  await gw?.close();
  await da?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Answer = "accept" | "decline" | "cannot";

/** One call through the gateway by a client that answers confirmations as told (or cannot be asked). */
async function call(
  era: "legacy" | "modern",
  answer: Answer,
  tool: string,
  args: Record<string, unknown>,
): Promise<{ result: ToolResultShape; asked: string[] }> {
  const asked: string[] = [];
  const client = await connectHttpClient(
    gw.url,
    answer === "cannot" ? {} : { elicitation: { form: {} } },
    undefined,
    era,
  );
  if (answer !== "cannot") {
    client.setRequestHandler("elicitation/create", (request) => {
      asked.push(String((request.params as { message?: string }).message));
      return Promise.resolve(
        answer === "accept" ? { action: "accept", content: { confirm: true } } : { action: "decline" },
      );
    });
  }
  try {
    return { result: (await client.callTool({ name: tool, arguments: args })) as ToolResultShape, asked };
  } finally {
    await client.close();
  }
}

const rows = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ id: i })));

describe.each([
  ["legacy", "da"],
  ["legacy", "da-legacy"],
  ["modern", "da"],
  ["modern", "da-legacy"],
] as const)("a %s client, upstream %s", (era, upstream) => {
  const dataset = `pets_${era}_${upstream.replace("-", "_")}`;
  const tool = `${upstream}__load_inline_dataset`;

  beforeAll(async () => {
    const { result } = await call(era, "cannot", tool, { name: dataset, data: rows(2) });
    expect(result.isError, textOf(result)).toBeFalsy();
  });

  it("relays the upstream's confirmation; accepted, the dataset is replaced", async () => {
    const { result, asked } = await call(era, "accept", tool, {
      name: dataset,
      data: rows(5),
      replace: true,
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain(`Replace dataset '${dataset}' (2 rows`);
    expect(result.structuredContent).toMatchObject({ name: dataset, rowCount: 5 });
    expect(result.structuredContent?.declined).toBeUndefined();
  });

  it("declined, nothing is done and the upstream says so", async () => {
    const { result, asked } = await call(era, "decline", tool, {
      name: dataset,
      data: rows(9),
      replace: true,
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(result.structuredContent).toMatchObject({ name: dataset, rowCount: 5 });
    expect(String(result.structuredContent?.declined)).toContain("did not confirm");
  });

  it("a client that cannot be asked gets a refusal, and nothing is done", async () => {
    const { result } = await call(era, "cannot", tool, { name: dataset, data: rows(7), replace: true });
    expect(result.isError).toBe(true);
    // A 2026-07-28 upstream is told the caller declared no elicitation and refuses in its own words;
    // a 2025 upstream asks anyway and its tool fails on the gateway's answer, naming the capability.
    expect(textOf(result)).toMatch(
      upstream === "da"
        ? /^forbidden: nothing was done: this needs a person to confirm \(Replace dataset/
        : /cannot answer 'elicitation\/create' \(it did not declare the 'elicitation' capability\)/,
    );
    const check = await call(era, "cannot", `${upstream}__describe_dataset`, { name: dataset });
    expect(JSON.stringify(check.result.structuredContent ?? textOf(check.result))).toContain('"rowCount":5');
  });
});

it("keeps the questions of concurrent calls to a 2025 upstream apart", async () => {
  const names = ["together_a", "together_b"];
  for (const name of names)
    await call("modern", "cannot", "da-legacy__load_inline_dataset", { name, data: rows(1) });
  const [accepted, declined] = await Promise.all([
    call("modern", "accept", "da-legacy__load_inline_dataset", {
      name: names[0],
      data: rows(3),
      replace: true,
    }),
    call("modern", "decline", "da-legacy__load_inline_dataset", {
      name: names[1],
      data: rows(3),
      replace: true,
    }),
  ]);
  expect(accepted.asked[0]).toContain(`'${names[0]}'`);
  expect(declined.asked[0]).toContain(`'${names[1]}'`);
  expect(accepted.result.structuredContent).toMatchObject({ name: names[0], rowCount: 3 });
  expect(declined.result.structuredContent).toMatchObject({ name: names[1], rowCount: 1 });
});
