import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { guardInput, LineGuard } from "../src/line-guard.js";

async function run(chunks: string[], max: number): Promise<{ lines: string[]; oversize: number }> {
  let oversize = 0;
  const input = Readable.from(chunks.map((c) => Buffer.from(c)));
  const guarded = guardInput(input, new LineGuard(max, () => oversize++));
  const out: Buffer[] = [];
  guarded.on("data", (chunk: Buffer) => out.push(chunk));
  await new Promise((resolve) => input.once("end", resolve));
  return { lines: Buffer.concat(out).toString().split("\n").filter(Boolean), oversize };
}

describe("LineGuard", () => {
  it("passes whole lines through, however they are chunked", async () => {
    expect(await run(['{"a":1}\n{"b"', ':2}\n{"c":3}\n'], 100)).toEqual({
      lines: ['{"a":1}', '{"b":2}', '{"c":3}'],
      oversize: 0,
    });
  });

  it("drops a line over the cap, once, and keeps the lines around it", async () => {
    const big = "x".repeat(50);
    expect(await run(["ok1\n", big.slice(0, 20), big.slice(20), "\nok2\n"], 10)).toEqual({
      lines: ["ok1", "ok2"],
      oversize: 1,
    });
  });

  it("counts a line exactly at the cap as fine", async () => {
    expect(await run(["0123456789\n"], 10)).toEqual({ lines: ["0123456789"], oversize: 0 });
  });
});
