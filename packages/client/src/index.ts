export { UpstreamClient } from "./upstream-client.js";
export type {
  CallOptions,
  ForwardOptions,
  InputRequest,
  LogMessage,
  LogRelay,
  Relay,
  ProtocolChoice,
  UpstreamClientOptions,
  UpstreamState,
  UpstreamTarget,
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
