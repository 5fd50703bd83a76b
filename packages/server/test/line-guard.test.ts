import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { guardInput, LineGuard, recoverId } from "../src/line-guard.js";

async function run(
  chunks: string[],
  max: number,
  ids: (string | number | undefined)[] = [],
): Promise<{ lines: string[]; oversize: number }> {
  let oversize = 0;
  const input = Readable.from(chunks.map((c) => Buffer.from(c)));
  const guarded = guardInput(
    input,
    new LineGuard(max, (id) => {
      oversize++;
      ids.push(id);
    }),
  );
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

  it("reads the id of a dropped request off its first or last bytes, however it is chunked", async () => {
    const pad = "x".repeat(5000);
    const first = JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { pad } });
    const last = JSON.stringify({ jsonrpc: "2.0", method: "tools/call", params: { pad }, id: 'a"b' });
    const ids: (string | number | undefined)[] = [];
    const out = await run([first.slice(0, 300), first.slice(300), "\n", last, "\nok\n"], 100, ids);
    expect(out).toEqual({ lines: ["ok"], oversize: 2 });
    expect(ids).toEqual([7, 'a"b']);
  });
});

describe("recoverId", () => {
  const ends = (line: string): [Buffer, Buffer] => [
    Buffer.from(line.slice(0, 512)),
    Buffer.from(line.slice(-512)),
  ];

  it("takes only a top-level id, never one inside params or a string", () => {
    const pad = "y".repeat(2000);
    expect(
      recoverId(...ends(`{"jsonrpc":"2.0","method":"m","params":{"id":5,"p":"${pad}"}}`)),
    ).toBeUndefined();
    expect(
      recoverId(...ends(`{"jsonrpc":"2.0","method":"m","params":{"p":"${pad}","id":5}}`)),
    ).toBeUndefined();
    expect(recoverId(...ends(`{"method":"m","params":{"p":"${pad},\\"id\\":5}"}}`))).toBeUndefined();
    expect(recoverId(...ends(`{"method":"m","id":-3,"params":{"p":"${pad}"}}`))).toBe(-3);
    expect(recoverId(...ends("not json at all"))).toBeUndefined();
  });
});
