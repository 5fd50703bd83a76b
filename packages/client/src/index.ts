export { TASKS_EXTENSION, UpstreamClient } from "./upstream-client.js";
export type {
  CallOptions,
  ForwardOptions,
  InputRequest,
  LogMessage,
  LogRelay,
  Relay,
  ProtocolChoice,
  RelistenPolicy,
  TaskMethod,
  UpstreamClientOptions,
  UpstreamState,
  UpstreamTarget,
  UpstreamTask,
} from "./upstream-client.js";
export type {
  CallToolResult,
  CompleteResult,
  GetPromptResult,
  PriorDiscovery,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  Tool,
} from "@modelcontextprotocol/client";
