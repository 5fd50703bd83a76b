import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import { redactKeys, scrubSecrets } from "./redact.js";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type Logger = PinoLogger;

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface CreateLoggerOptions {
  /** The component name, e.g. the server name; every line carries it. */
  name: string;
  level?: LogLevel;
  /** Where lines go. Defaults to file descriptor 2: stdout is a stdio server's protocol channel. */
  destination?: DestinationStream | number;
  /** Fields on every line. */
  base?: Record<string, unknown>;
  /** Fields computed for each line, e.g. the active trace and span ids. */
  mixin?: () => Record<string, unknown>;
}

/**
 * A pino logger on stderr with secrets redacted: secret-named keys at any depth of a line's fields,
 * and secret-shaped text in logged errors. (Child-logger bindings are the kit's own ids, not redacted.) Writes are asynchronous and flushed on exit.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const destination =
    typeof options.destination === "object"
      ? options.destination
      : pino.destination({ dest: options.destination ?? 2, sync: false, minLength: 0 });
  return pino(
    {
      name: options.name,
      level: options.level ?? "info",
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(options.mixin ? { mixin: options.mixin } : {}),
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactKeys(object),
      },
      // Error messages and stacks often quote what failed: a connection string, a header.
      serializers: { err: serializeError },
    },
    destination,
  );
}

function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const key of ["message", "stack"]) {
    if (typeof out[key] === "string") out[key] = scrubSecrets(out[key]);
  }
  return out;
}
