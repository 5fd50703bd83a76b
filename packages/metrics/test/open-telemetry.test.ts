import { ROOT_CONTEXT, trace, type Span, type TracerProvider } from "@opentelemetry/api";
import { afterEach, expect, it } from "vitest";
import { openTelemetry } from "../src/index.js";

afterEach(() => trace.disable());

/** A provider that records the names of the spans started through it. */
function recordingProvider(names: string[]): TracerProvider {
  return {
    getTracer: () => ({
      startSpan: (name: string): Span => {
        names.push(name);
        return trace.wrapSpanContext({ traceId: "c".repeat(32), spanId: "d".repeat(16), traceFlags: 1 });
      },
      startActiveSpan: () => {
        throw new Error("not used here");
      },
    }),
  };
}

it("is undefined until something registers OpenTelemetry, then the API that reaches the registered provider", () => {
  // Nothing registered: the Toolshed packages skip tracing without loading the API.
  expect(openTelemetry()).toBeUndefined();
  const names: string[] = [];
  trace.setGlobalTracerProvider(recordingProvider(names));
  const api = openTelemetry();
  expect(api).toBeDefined();
  api!.trace.getTracer("t").startSpan("through the loaded copy", {}, api!.context.active()).end();
  expect(names).toEqual(["through the loaded copy"]);
  // The loaded copy and the application's read each other's contexts: a span set by one is the other's.
  const span = trace.wrapSpanContext({ traceId: "a".repeat(32), spanId: "b".repeat(16), traceFlags: 1 });
  expect(api!.trace.getSpan(trace.setSpan(ROOT_CONTEXT, span))).toBe(span);
});
