export { OfflineEmbedder, OFFLINE_BATCH, OFFLINE_DIMENSION, OFFLINE_EMBEDDER_ID } from "./offline.js";
export { loadUseModel } from "./use-model.js";
export type { UseModel } from "./use-model.js";
export type { Embedder } from "./embedder.js";
