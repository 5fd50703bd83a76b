import { z } from "@toolshed/server";
import { DEFAULT_MAX_CHUNKS_PER_CALL, DEFAULT_MAX_CHUNKS_PER_DOCUMENT } from "./chunk.js";
import {
  DEFAULT_EF_SEARCH,
  DEFAULT_MAINTENANCE_WORK_MEM_MB,
  MAX_MAINTENANCE_WORK_MEM_MB,
} from "./store/sql.js";
import { DEFAULT_HNSW } from "./store/store.js";

export const configSchema = z.object({
  dataDir: z
    .string()
    .default("./data")
    .describe("Where the embedded PGlite database lives (created if missing); unused with --postgres-url."),
  postgresUrl: z
    .string()
    .optional()
    .describe(
      "Use this PostgreSQL database with pgvector (postgres://user@host/db) instead of embedded PGlite.",
    ),
  postgresPoolSize: z
    .number()
    .int()
    .min(1)
    .max(50)
    .default(4)
    .describe("Most PostgreSQL connections open at once."),
  efSearch: z
    .number()
    .int()
    .min(10)
    .max(1000)
    .default(DEFAULT_EF_SEARCH)
    .describe(
      "HNSW candidate list size per search (hnsw.ef_search): higher finds more true neighbours, slower.",
    ),
  hnswM: z
    .number()
    .int()
    .min(2)
    .max(100)
    .default(DEFAULT_HNSW.m)
    .describe(
      "HNSW links per node (m) for indexes built from now on: higher, better recall and more memory.",
    ),
  hnswEfConstruction: z
    .number()
    .int()
    .min(4)
    .max(1000)
    .default(DEFAULT_HNSW.efConstruction)
    .describe(
      "HNSW build candidate list (ef_construction) for indexes built from now on: higher, better recall and slower builds.",
    ),
  maintenanceWorkMemMb: z
    .number()
    .int()
    .min(1)
    .max(MAX_MAINTENANCE_WORK_MEM_MB)
    .default(DEFAULT_MAINTENANCE_WORK_MEM_MB)
    .describe(
      "Memory for building an HNSW index (maintenance_work_mem), in MB: an index whose graph outgrows it builds far slower. PGlite's whole heap is WebAssembly's (at most 2 GB here).",
    ),
  embedder: z
    .enum(["offline", "openai-compatible"])
    .default("offline")
    .describe(
      "What turns text into vectors: 'offline' (Universal Sentence Encoder shipped in the npm package, 512 dims, no network) or 'openai-compatible' (--embedding-url).",
    ),
  embeddingUrl: z
    .string()
    .url()
    .optional()
    .describe(
      "Base URL of an OpenAI-compatible embeddings API, e.g. https://api.openai.com/v1 or http://localhost:11434/v1.",
    ),
  embeddingModel: z
    .string()
    .default("text-embedding-3-small")
    .describe("Model name sent to the embeddings API."),
  embeddingApiKey: z.string().optional().describe("Bearer token for the embeddings API; never logged."),
  embeddingDimension: z
    .number()
    .int()
    .min(1)
    .max(2000)
    .optional()
    .describe("Vector length of the embeddings model; learned from the first call when unset."),
  embeddingBatchSize: z.number().int().min(1).max(2048).default(64).describe("Texts per embeddings request."),
  embeddingAllowPrivate: z
    .boolean()
    .default(false)
    .describe(
      "Let the embeddings URL be a loopback or private address (a local Ollama, vLLM, TEI, LM Studio).",
    ),
  embedWorkers: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(0)
    .describe(
      "Worker threads that run the offline embedder, off the event loop; 0 = one per core, at most 4. Each loads the model (about 120 MB).",
    ),
  embedNice: z
    .number()
    .int()
    .min(0)
    .max(19)
    .default(10)
    .describe(
      "How far below the server's own priority the bulk embedding threads run (Linux niceness, per thread): searches, /healthz and the database go first. 0 lets an ingest compete on equal terms with other processes on a shared machine.",
    ),
  maxChunksPerDocument: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(DEFAULT_MAX_CHUNKS_PER_DOCUMENT)
    .describe("Most chunks upsert_documents may cut one document into; more is refused before any work."),
  maxChunksPerCall: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(DEFAULT_MAX_CHUNKS_PER_CALL)
    .describe(
      "Most documents one upsert_documents call may write, chunks counted one by one; more is refused before any work.",
    ),
  queryTimeoutMs: z
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe("PostgreSQL statement timeout and embeddings request timeout, in milliseconds."),
});

export type Config = z.output<typeof configSchema>;
