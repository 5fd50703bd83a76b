export { createTestClient } from "./test-client.js";
export type { TestClient } from "./test-client.js";
export { connectHttpClient, startTestHttpServer } from "./http-harness.js";
export type { TestHttpServer } from "./http-harness.js";
export { spawnStdioServer } from "./stdio-harness.js";
export { startServerProcess, type ServerProcess, type ServerProcessOptions } from "./server-process.js";
export type { StdioServerProcess } from "./stdio-harness.js";
// runContractTests lives at "@toolshed/testing/contract": it needs vitest, the rest does not.
export { callTool, textOf, type CallResult } from "./results.js";
export type { Client } from "@modelcontextprotocol/client";
export { connectV1HttpClient, connectV1StdioClient, type V1Client } from "./v1-client.js";
export { eventually, recordChanges, type ChangeRecorder, type SeenChange } from "./changes.js";
export { MODERN_PROTOCOL_VERSION, type Era } from "./era.js";
export {
  ASKING_CAPABILITIES,
  modernCall,
  modernEnvelope,
  modernListen,
  modernPost,
  readReply,
  tamperedState,
  type ModernListen,
  type ModernPostOptions,
  type RawMessage,
} from "./modern-call.js";
export { actAsPerson, CONFIRMED, confirmWithTamperedState, type PersonReply } from "./person.js";
export {
  startRoundRobinProxy,
  type RoundRobinProxy,
  type RoundRobinProxyOptions,
} from "./round-robin-proxy.js";
