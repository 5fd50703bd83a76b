import { describe, expect, it } from "vitest";
import {
  ERROR_CODES,
  ToolshedError,
  fromHttpStatus,
  isToolshedError,
  toJsonRpcError,
  toToolResult,
  toToolshedError,
} from "../src/index.js";

describe("ToolshedError", () => {
  it("defaults retryable by code", () => {
    expect(new ToolshedError("rate_limited", "slow down").retryable).toBe(true);
    expect(new ToolshedError("not_found", "no such dataset").retryable).toBe(false);
    expect(new ToolshedError("not_found", "x", { retryable: true }).retryable).toBe(true);
  });

  it("refuses an unknown code", () => {
    expect(() => new ToolshedError("nope" as never, "x")).toThrow(/unknown ToolshedError code 'nope'/);
  });

  it("recognises a look-alike from another copy of the package", () => {
    const foreign = Object.assign(new Error("x"), { name: "ToolshedError", code: "conflict" });
    expect(isToolshedError(foreign)).toBe(true);
    expect(isToolshedError(new Error("x"))).toBe(false);
  });

  it("hides the internals of unknown errors but keeps them as cause", () => {
    const secret = new Error("ENOENT: /srv/secret/path.db");
    const err = toToolshedError(secret);
    expect(err.code).toBe("internal");
    expect(err.message).not.toContain("/srv/secret");
    expect(err.cause).toBe(secret);
  });

  it("maps AbortError to timeout", () => {
    const abort = Object.assign(new Error("aborted"), { name: "AbortError" });
    expect(toToolshedError(abort).code).toBe("timeout");
  });
});

describe("fromHttpStatus", () => {
  it.each([
    [400, "invalid_input"],
    [401, "unauthenticated"],
    [403, "forbidden"],
    [404, "not_found"],
    [409, "conflict"],
    [422, "invalid_input"],
    [429, "rate_limited"],
    [500, "upstream_error"],
    [502, "upstream_unavailable"],
    [503, "upstream_unavailable"],
    [504, "upstream_unavailable"],
  ] as const)("%i -> %s", (status, code) => {
    const err = fromHttpStatus(status);
    expect(err.code).toBe(code);
    expect(err.details).toMatchObject({ status });
    expect(err.message).toContain(String(status));
  });

  it("keeps caller details and retry hints", () => {
    const err = fromHttpStatus(429, "GitHub rate limit", {
      retryAfterMs: 30_000,
      details: { resource: "core" },
    });
    expect(err.toJSON()).toEqual({
      code: "rate_limited",
      message: "GitHub rate limit",
      retryable: true,
      retryAfterMs: 30_000,
      details: { status: 429, resource: "core" },
    });
  });
});

describe("renderings", () => {
  it("gives every code a distinct JSON-RPC code", () => {
    const codes = ERROR_CODES.map((c) => toJsonRpcError(new ToolshedError(c, "m")).code);
    expect(new Set(codes).size).toBe(ERROR_CODES.length);
    expect(toJsonRpcError(new ToolshedError("invalid_input", "bad")).code).toBe(-32602);
    expect(toJsonRpcError(new Error("boom"))).toMatchObject({ code: -32603, data: { type: "internal" } });
  });

  it("renders a tool result a model can act on", () => {
    const result = toToolResult(
      new ToolshedError("not_found", "dataset 'sales' not found; call list_datasets"),
    );
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toBe("not_found: dataset 'sales' not found; call list_datasets");
    const retry = toToolResult(new ToolshedError("rate_limited", "slow down", { retryAfterMs: 1500 }));
    expect(retry.content[0].text).toBe("rate_limited: slow down (retryable after 2s)");
    expect(toToolResult(new Error("db password=hunter2")).content[0].text).not.toContain("hunter2");
  });
});
