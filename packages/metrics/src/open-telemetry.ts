import { createRequire } from "node:module";
import type * as OpenTelemetryApi from "@opentelemetry/api";

/**
 * Where @opentelemetry/api (every 1.x copy, ESM or CommonJS) keeps what an application registered:
 * it is created by the first registration (a tracer provider, a propagator, a context manager).
 */
const REGISTERED = Symbol.for("opentelemetry.js.api.1");

let api: typeof OpenTelemetryApi | undefined;

/**
 * @opentelemetry/api once anything has registered an OpenTelemetry global, else undefined. Until
 * then every API call would be a no-op, and loading the API costs a cold start tens of milliseconds
 * (over a hundred files), so the Toolshed packages trace through this and load it only when an
 * application (or the kit's OTLP exporter) has set OpenTelemetry up. Cheap to call per request.
 */
export function openTelemetry(): typeof OpenTelemetryApi | undefined {
  if (api) return api;
  if (!(REGISTERED in globalThis)) return undefined;
  // CommonJS, so it loads in the call that first needs it; the copies share the registered globals.
  api = createRequire(import.meta.url)("@opentelemetry/api") as typeof OpenTelemetryApi;
  return api;
}
