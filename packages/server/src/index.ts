/**
 * `@toolshed/server`: this file defines the complete public surface of the kit. A server needs
 * nothing else: define it (`definers`, `defineServer`, `defineTool`, …), run it (`main`, or
 * `startHttpServer` / `startStdioServer` in tests), raise `ToolshedError`, validate with `z`, read
 * its own version with `packageVersion(import.meta.url)`.
 * Named exports only, never `export *`, so every name here is a decision; a test snapshots the list
 * (`test/surface.test.ts`). What only sibling packages and tests need is in `./internal.ts`
 * (`@toolshed/server/internal`), which carries no compatibility promise.
 */
export {
  defineServer,
  definers,
  defineTool,
  defineResource,
  definePrompt,
  reply,
  isReply,
  resolveDefinition,
  USUAL_PATH,
} from "./define.js";
export type {
  AnyServerDefinition,
  AnyPromptDefinition,
  AnyObjectSchema,
  AnyTool,
  AnyResource,
  Definers,
  PromptArgs,
  ToolsetField,
  Answer,
  AskOptions,
  Asking,
  CacheHint,
  Choice,
  ChangeNotifier,
  NotifyOptions,
  Completer,
  CompletionContext,
  ClientRequests,
  ConfirmPolicy,
  ContentBlock,
  ElicitationSchema,
  HandlerContext,
  NotificationsDeclared,
  Principal,
  PromptContext,
  PromptDefinition,
  PromptMessage,
  ResolvedServerDefinition,
  ReadContext,
  ResourceContents,
  ResourceDefinition,
  FixedResourceDefinition,
  CompletionValues,
  ForwardCompletion,
  FastToolCall,
  ForwardContext,
  ForwardTaskContext,
  ForwardTasks,
  ForwardDefinition,
  WireResult,
  TemplateResourceDefinition,
  ServerDefinition,
  SetupContext,
  ToolAnnotations,
  ToolDefinition,
  ToolReply,
  TaskSupport,
  TransportInfo,
} from "./define.js";
export { similarNames } from "./ask.js";
export { selfDescribing } from "./validate-definition.js";
export { MCP_APPS_EXTENSION, MCP_APP_MIME_TYPE } from "./apps.js";
export { MemoryTaskStore } from "./tasks/store.js";
export type { TaskRecord, TaskStatus, TaskStore } from "./tasks/store.js";
export { RedisTaskStore } from "./tasks/redis-store.js";
export { connectRedis } from "./redis.js";
export type { RedisTaskStoreOptions } from "./tasks/redis-store.js";
export { TASKS_EXTENSION, DEFAULT_TASK_TTL_MS } from "./tasks/manager.js";
export type { TaskSettings } from "./tasks/manager.js";
export type { Runtime, ToolMode } from "./runtime.js";
export { DEFAULT_SEARCH_THRESHOLD } from "./runtime.js";
export { ToolIndex, searchModeTools, SEARCH_MODE_TOOLS } from "./tool-search.js";
export type { IndexedTool, ToolSearchHit } from "./tool-search.js";
export type { HttpHandle, HttpOptions } from "./http/app.js";
export { authFromSettings } from "./http/auth.js";
export type { AuthSettings, HttpAuth } from "./http/auth.js";
export { MemoryEventStore } from "./http/event-store.js";
export type { EventStore, MemoryEventStoreOptions, SharedEventStore } from "./http/event-store.js";
export { RedisEventStore } from "./http/redis-event-store.js";
export type { RedisEventStoreOptions } from "./http/redis-event-store.js";
export type { StdioHandle } from "./stdio.js";
export { createRuntime, startHttpServer, startStdioServer, InvalidServerDefinition } from "./start.js";
export type { StartOptions } from "./start.js";
export { runServer, main } from "./run.js";
export type { RunOptions } from "./run.js";
export { parseCommandLine, UsageError } from "./cli/options.js";
export { packageVersion } from "./package-version.js";
export type { CommonOptions } from "./cli/options.js";
export { ToolshedError, isToolshedError, toToolshedError } from "@toolshed/errors";
export type { ErrorCode } from "@toolshed/errors";
export { z } from "zod";
export { LocalChangeBus, RedisChangeBus } from "./bus.js";
export type { ChangeBus, ChangeEvent, RedisChangeBusOptions } from "./bus.js";
