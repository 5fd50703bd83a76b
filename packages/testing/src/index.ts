export { createTestClient } from "./test-client.js";
export type { TestClient } from "./test-client.js";
export { connectHttpClient, startTestHttpServer } from "./http-harness.js";
export type { TestHttpServer } from "./http-harness.js";
export { spawnStdioServer } from "./stdio-harness.js";
export type { StdioServerProcess } from "./stdio-harness.js";
export { runContractTests } from "./contract.js";
export type { ContractOptions } from "./contract.js";
export { textOf } from "./results.js";
