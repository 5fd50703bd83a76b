import type { Logger } from "@toolshed/logging";

/**
 * Installs an OpenTelemetry tracer provider exporting over OTLP/HTTP when the standard
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; otherwise does
 * nothing and loads nothing. Returns a function that flushes and shuts the provider down.
 */
export async function installOtlpFromEnv(
  service: { name: string; version: string },
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<(() => Promise<void>) | undefined> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return undefined;
  const [
    api,
    { AsyncLocalStorageContextManager },
    core,
    sdk,
    { OTLPTraceExporter },
    { resourceFromAttributes },
  ] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/core"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  // The exporter reads the OTEL_EXPORTER_OTLP_* variables itself (endpoint, headers, timeout).
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME ?? `toolshed-${service.name}`,
      "service.version": service.version,
    }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
  );
  api.trace.setGlobalTracerProvider(provider);
  logger.info({ endpoint: redactUrl(endpoint) }, "exporting traces over OTLP/HTTP");
  return async () => {
    try {
      await provider.shutdown();
    } catch (err) {
      logger.warn({ err }, "could not flush traces on shutdown");
    }
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
