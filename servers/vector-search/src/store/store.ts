import { ToolshedError } from "@toolshed/server";
import { compileFilter, FilterError, type Filter } from "./filter.js";
import { METRIC_SQL, type Metric } from "./metric.js";
import { parseVectorText, type SqlClient, type VectorInput } from "./sql.js";

export const MAX_DIMENSION = 2000; // pgvector's HNSW limit for `vector`
export const WRITE_BATCH_ROWS = 500; // rows per multi-row INSERT (4 parameters each)
/**
 * Rows per INSERT (and per transaction) into a PGlite collection with a live HNSW index. Each row
 * costs the index milliseconds (about 220 rows/s on the benchmark's data, 50 to 100 on random
 * vectors on a loaded machine) and PGlite has one connection, so a search waits for the statement
 * running. Rows per second are the same from 4 to 500 rows a statement; 8 take about 40 ms.
 */
export const PGLITE_INDEXED_BATCH_ROWS = 8;
/** Reciprocal-rank-fusion constant (Cormack et al.): score = sum of 1 / (RRF_K + rank). */
export const RRF_K = 60;

export interface NewCollection {
  name: string;
  dimension: number;
  metric: Metric;
  /** What makes this collection's vectors, e.g. `offline:universal-sentence-encoder` or `none`. */
  embedder: string;
  metadataSchema?: Record<string, unknown>;
  description?: string;
  /** Build the HNSW index now (default); false defers it to `buildIndex` (faster bulk loads). */
  index?: boolean;
}

export interface CollectionInfo {
  name: string;
  dimension: number;
  metric: Metric;
  embedder: string;
  metadataSchema: Record<string, unknown> | null;
  description: string | null;
  count: number;
  index: "hnsw" | "none";
  createdAt: string;
}

export interface Document {
  id: string;
  text: string | null;
  metadata: Record<string, unknown>;
  vector?: number[];
}

export interface NewDocument {
  id: string;
  text?: string | null;
  metadata?: Record<string, unknown>;
  vector: VectorInput;
}

export interface Hit {
  id: string;
  text: string | null;
  metadata: Record<string, unknown>;
  score: number;
}

/** HNSW graph settings for indexes built from now on (pgvector's `m` and `ef_construction`). */
export interface HnswOptions {
  m: number;
  efConstruction: number;
}

/**
 * m as pgvector has it; ef_construction twice its 64: on clustered data the 64-graph leaves recall@10
 * near 0.95 at any ef_search, 128 gives 0.97 for a build about twice as long (bench:vector).
 */
export const DEFAULT_HNSW: HnswOptions = { m: 16, efConstruction: 128 };

export interface SearchOptions {
  topK: number;
  filter?: Filter;
}

/** How much each list counts in hybrid search's weighted reciprocal-rank fusion. */
export interface HybridWeights {
  vector: number;
  keyword: number;
}

/** Equal weights; bench:vector-quality measures others (bench/RESULTS.md): none did better. */
export const DEFAULT_HYBRID_WEIGHTS: HybridWeights = { vector: 1, keyword: 1 };

export interface HybridOptions extends SearchOptions {
  /** Candidates taken from each list (default max(50, 4 x topK)). */
  candidates?: number;
  weights?: HybridWeights;
  /**
   * Re-score the fused candidates (the top max(20, 4 x topK) by weighted RRF) on both signals' own
   * scores: the exact vector similarity and the keyword score of every candidate, each scaled to
   * [0, 1] over the candidates, weighted as above. A document found by one list is judged on the
   * other too, and a clear keyword match is not out-voted by ranks. A query's exact terms
   * (`exactTerms`), and the whole query read as one name (`queryPhrase`), found verbatim lift a
   * candidate a tier, and its identifiers' share of its words takes that share off the vector
   * weight. Default true; false returns the weighted RRF order and scores.
   */
  rerank?: boolean;
}

interface CollectionRow {
  id: number;
  name: string;
  dimension: number;
  metric: Metric;
  embedder: string;
  metadata_schema: Record<string, unknown> | null;
  description: string | null;
  indexed: boolean;
  created_at: Date | string;
}

interface Resolved {
  row: CollectionRow;
  table: string;
}

const MIGRATION = `
CREATE TABLE IF NOT EXISTS toolshed_vs_collections (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  dimension integer NOT NULL,
  metric text NOT NULL,
  embedder text NOT NULL,
  metadata_schema jsonb,
  description text,
  indexed boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Collections and documents on pgvector. One implementation over any `SqlClient` (PGlite or a
 * PostgreSQL server). Each collection is a table named from its numeric id (never from its name),
 * with a typed `vector(d)` column and an HNSW index, JSONB metadata and a generated tsvector.
 */
export class VectorStore {
  /** name -> catalog row, so a search costs one round trip; dropped when a collection changes. */
  private readonly catalog = new Map<string, CollectionRow>();

  private constructor(
    readonly sql: SqlClient,
    private readonly hnsw: HnswOptions,
  ) {}

  static async open(sql: SqlClient, hnsw: Partial<HnswOptions> = {}): Promise<VectorStore> {
    await sql.query(MIGRATION);
    return new VectorStore(sql, { ...DEFAULT_HNSW, ...hnsw });
  }

  async close(): Promise<void> {
    await this.sql.close();
  }

  async ping(): Promise<boolean> {
    await this.sql.query("SELECT 1");
    return true;
  }

  async listCollections(): Promise<CollectionInfo[]> {
    const rows = await this.sql.query<CollectionRow>("SELECT * FROM toolshed_vs_collections ORDER BY name");
    return Promise.all(rows.map((r) => this.info(r)));
  }

  /** Every collection's name, without counting documents. */
  async collectionNames(): Promise<string[]> {
    const rows = await this.sql.query<{ name: string }>(
      "SELECT name FROM toolshed_vs_collections ORDER BY name",
    );
    return rows.map((r) => r.name);
  }

  async collectionInfo(name: string): Promise<CollectionInfo> {
    return this.info((await this.resolve(name)).row);
  }

  async createCollection(c: NewCollection): Promise<CollectionInfo> {
    this.catalog.delete(c.name);
    if (!Number.isInteger(c.dimension) || c.dimension < 1 || c.dimension > MAX_DIMENSION) {
      throw new ToolshedError("invalid_input", `dimension must be a whole number from 1 to ${MAX_DIMENSION}`);
    }
    const m = METRIC_SQL[c.metric];
    if (!m) throw new ToolshedError("invalid_input", "metric must be cosine, l2 or inner_product");
    const row = await this.sql.transaction(async (tx) => {
      const existing = await tx.query("SELECT 1 FROM toolshed_vs_collections WHERE name = $1", [c.name]);
      if (existing.length > 0) {
        throw new ToolshedError(
          "conflict",
          `collection '${c.name}' already exists; use it, or delete_collection first`,
        );
      }
      const [r] = await tx.query<CollectionRow>(
        `INSERT INTO toolshed_vs_collections (name, dimension, metric, embedder, metadata_schema, description, indexed)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING *`,
        [
          c.name,
          c.dimension,
          c.metric,
          c.embedder,
          c.metadataSchema ? JSON.stringify(c.metadataSchema) : null,
          c.description ?? null,
          c.index !== false,
        ],
      );
      if (!r) throw new Error("INSERT ... RETURNING gave no row");
      const table = tableName(r.id);
      // Identifiers here are built from the integer id and a validated integer and enum: no input text.
      await tx.query(
        `CREATE TABLE ${table} (
          id text PRIMARY KEY,
          text text,
          metadata jsonb NOT NULL DEFAULT '{}',
          embedding vector(${Math.trunc(c.dimension)}) NOT NULL,
          tsv tsvector GENERATED ALWAYS AS (${TSV_OF_TEXT}) STORED,
          updated_at timestamptz NOT NULL DEFAULT now()
        )`,
      );
      await tx.query(`CREATE INDEX ${table}_tsv ON ${table} USING gin (tsv)`);
      if (c.index !== false) await tx.query(hnswDdl(table, c.metric, this.hnsw));
      return r;
    });
    return this.info(row);
  }

  async deleteCollection(name: string): Promise<{ deleted: number }> {
    const { row, table } = await this.resolve(name);
    const count = await this.countRows(table);
    await this.sql.transaction(async (tx) => {
      await tx.query(`DROP TABLE IF EXISTS ${table}`);
      await tx.query("DELETE FROM toolshed_vs_collections WHERE id = $1", [row.id]);
    });
    this.catalog.delete(name);
    return { deleted: count };
  }

  /** Builds the HNSW index of a collection created with `index: false`; returns the milliseconds taken. */
  async buildIndex(name: string): Promise<number> {
    const { row, table } = await this.resolve(name);
    const start = performance.now();
    await this.sql.query(`DROP INDEX IF EXISTS ${table}_hnsw`);
    await this.sql.query(hnswDdl(table, row.metric, this.hnsw));
    await this.sql.query("UPDATE toolshed_vs_collections SET indexed = true WHERE id = $1", [row.id]);
    this.catalog.delete(name);
    return performance.now() - start;
  }

  /**
   * Inserts or replaces documents by id, in multi-row INSERTs of `WRITE_BATCH_ROWS`. A repeated id in
   * one call keeps its last occurrence. Every document is checked before anything is written.
   *
   * All in one transaction (all or nothing), except into an embedded (PGlite) collection with a live
   * index: PGlite has one connection, and each row costs the index milliseconds, so there every
   * `PGLITE_INDEXED_BATCH_ROWS` rows commit on their own and other sessions' searches run between
   * them instead of waiting out the whole write. An error or an abort from `onBatch` then leaves
   * the batches already committed (repeating the call is safe: it is idempotent).
   */
  async upsert(
    name: string,
    docs: readonly NewDocument[],
    onBatch?: (written: number) => Promise<void> | void,
  ): Promise<{ upserted: number }> {
    const { row, table } = await this.resolve(name);
    checkVectors(name, row.dimension, docs);
    const byId = new Map<string, NewDocument>();
    for (const d of docs) {
      byId.delete(d.id);
      byId.set(d.id, d);
    }
    const unique = [...byId.values()];
    const inBatches = this.sql.kind === "pglite" && row.indexed;
    const step = inBatches ? PGLITE_INDEXED_BATCH_ROWS : WRITE_BATCH_ROWS;
    const write = async (tx: SqlClient, batch: NewDocument[]) => {
      const params: unknown[] = [];
      const values = batch.map((d) => {
        params.push(d.id, d.text ?? null, JSON.stringify(d.metadata ?? {}), tx.vectorParam(d.vector));
        const n = params.length;
        return `($${n - 3}, $${n - 2}, $${n - 1}::jsonb, $${n}::vector)`;
      });
      await tx.query(
        `INSERT INTO ${table} (id, text, metadata, embedding) VALUES ${values.join(", ")}
         ON CONFLICT (id) DO UPDATE SET text = excluded.text, metadata = excluded.metadata,
           embedding = excluded.embedding, updated_at = now()`,
        params,
      );
    };
    const all = async (tx: SqlClient) => {
      for (let i = 0; i < unique.length; i += step) {
        const batch = unique.slice(i, i + step);
        await (inBatches ? tx.transaction((t) => write(t, batch)) : write(tx, batch));
        await onBatch?.(Math.min(i + step, unique.length));
      }
    };
    await (inBatches ? all(this.sql) : this.sql.transaction(all));
    return { upserted: unique.length };
  }

  /**
   * Checks documents' vectors against a collection (dimension, finite values in range) as `upsert`
   * does, writing nothing: for a caller that will write them in several `upsert` calls.
   */
  async checkVectors(name: string, docs: readonly Pick<NewDocument, "id" | "vector">[]): Promise<void> {
    checkVectors(name, (await this.resolve(name)).row.dimension, docs);
  }

  /**
   * Whether `upsert` into this collection commits a few rows at a time (embedded PGlite, live index)
   * rather than all or nothing: a caller may then start writing before it has every vector.
   */
  async writesInSteps(name: string): Promise<boolean> {
    return this.sql.kind === "pglite" && (await this.resolve(name)).row.indexed;
  }

  async get(
    name: string,
    opts: { ids?: string[]; filter?: Filter; limit: number; offset: number; includeVectors?: boolean },
  ): Promise<{ documents: Document[]; total: number }> {
    const { table } = await this.resolve(name);
    const params: unknown[] = [];
    const where = this.where(opts, params);
    const [countRow] = await this.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`,
      params,
    );
    const vec = opts.includeVectors ? ", embedding::text AS embedding" : "";
    const rows = await this.sql.query<{
      id: string;
      text: string | null;
      metadata: unknown;
      embedding?: string;
    }>(
      `SELECT id, text, metadata${vec} FROM ${table} WHERE ${where} ORDER BY id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, opts.limit, opts.offset],
    );
    return {
      total: countRow?.n ?? 0,
      documents: rows.map((r) => ({
        id: r.id,
        text: r.text,
        metadata: asObject(r.metadata),
        ...(r.embedding !== undefined ? { vector: parseVectorText(r.embedding) } : {}),
      })),
    };
  }

  async delete(name: string, opts: { ids?: string[]; filter?: Filter }): Promise<{ deleted: number }> {
    const { table } = await this.resolve(name);
    if (!opts.ids && !opts.filter) throw new ToolshedError("invalid_input", "give ids or a filter to delete");
    const params: unknown[] = [];
    const where = this.where(opts, params);
    const rows = await this.sql.query(`DELETE FROM ${table} WHERE ${where} RETURNING 1`, params);
    return { deleted: rows.length };
  }

  /** Nearest neighbours by the collection's metric, through the HNSW index. */
  async searchVector(name: string, vector: VectorInput, opts: SearchOptions): Promise<Hit[]> {
    const { row, table } = await this.resolve(name);
    this.checkQueryVector(name, row, vector);
    const m = METRIC_SQL[row.metric];
    const params: unknown[] = [this.sql.vectorParam(vector)];
    const where = opts.filter ? `WHERE ${this.where({ filter: opts.filter }, params)}` : "";
    params.push(opts.topK);
    const rows = await this.sql.query<{ id: string; text: string | null; metadata: unknown; score: number }>(
      `SELECT id, text, metadata, ${m.score("d")} AS score FROM (
         SELECT id, text, metadata, embedding ${m.op} $1::vector AS d FROM ${table} ${where}
         ORDER BY embedding ${m.op} $1::vector LIMIT $${params.length}
       ) s ORDER BY d`,
      params,
    );
    return rows.map(hit);
  }

  /**
   * Full-text search with web-search syntax (PostgreSQL's websearch_to_tsquery, English stemming):
   * "quoted phrase", -excluded, or. Without quotes or exclusions a document needs any of the
   * query's words; with them it must satisfy the whole query. Ranked by coverage (the share of the
   * query's words the document has) first, then ts_rank_cd: a score in [0, 1).
   */
  async searchKeyword(name: string, query: string, opts: SearchOptions): Promise<Hit[]> {
    const { table } = await this.resolve(name);
    const params: unknown[] = [query, looseText(query)];
    const where = opts.filter ? `AND ${this.where({ filter: opts.filter }, params)}` : "";
    params.push(opts.topK);
    const strict = requiresWholeQuery(query) ? "AND tsv @@ q.strict" : "";
    const rows = await this.sql.query<{ id: string; text: string | null; metadata: unknown; score: number }>(
      `WITH q AS (${KEYWORD_QUERY})
       SELECT id, text, metadata, ${KEYWORD_SCORE} AS score FROM ${table}, q
       WHERE tsv @@ q.loose ${strict} ${where} ORDER BY score DESC, id LIMIT $${params.length}`,
      params,
    );
    return rows.map(hit);
  }

  /**
   * Vector and keyword results fused by weighted reciprocal rank: each list contributes
   * weight / (60 + rank) for its top `candidates`; then (unless `rerank: false`) the fused
   * candidates are scored again on both signals' own scores (see HybridOptions).
   */
  async searchHybrid(name: string, query: string, vector: VectorInput, opts: HybridOptions): Promise<Hit[]> {
    const candidates = opts.candidates ?? Math.max(50, opts.topK * 4);
    const weights = opts.weights ?? DEFAULT_HYBRID_WEIGHTS;
    const [byVector, byWords] = await Promise.all([
      this.searchVector(name, vector, { topK: candidates, filter: opts.filter }),
      this.searchKeyword(name, query, { topK: candidates, filter: opts.filter }),
    ]);
    const rerank = opts.rerank ?? true;
    const fused = fuse([byVector, byWords], rerank ? Math.max(opts.topK * 4, 20) : opts.topK, [
      weights.vector,
      weights.keyword,
    ]);
    if (!rerank || fused.length === 0) return fused;
    return this.rerank(name, query, vector, fused, weights, opts.topK);
  }

  private async rerank(
    name: string,
    query: string,
    vector: VectorInput,
    candidates: Hit[],
    weights: HybridWeights,
    topK: number,
  ): Promise<Hit[]> {
    const { row, table } = await this.resolve(name);
    const m = METRIC_SQL[row.metric];
    const params: unknown[] = [
      query,
      looseText(query),
      this.sql.vectorParam(vector),
      candidates.map((h) => h.id),
    ];
    const rows = await this.sql.query<{ id: string; vs: number; ks: number }>(
      `WITH q AS (${KEYWORD_QUERY})
       SELECT id, ${m.score(`(embedding ${m.op} $3::vector)`)} AS vs, ${KEYWORD_SCORE} AS ks
       FROM ${table}, q WHERE id = ANY($4::text[])`,
      params,
    );
    // Each signal as a share of its best candidate's score, from a floor of 0: the gaps between
    // candidates keep their size (min-max scaling would stretch a near-tie in one signal to the
    // full range and let it out-vote a clear lead in the other).
    const vectorFloor = row.metric === "cosine" ? -1 : row.metric === "l2" ? 0 : undefined;
    const scale = (xs: number[], floor = Math.min(...xs)) => {
      const span = Math.max(...xs) - floor;
      return (x: number) => (span > 0 ? (x - floor) / span : 1);
    };
    const vs = scale(
      rows.map((r) => Number(r.vs)),
      vectorFloor,
    );
    const ks = scale(
      rows.map((r) => Number(r.ks)),
      0,
    );
    const exact = exactTerms(query);
    // The whole query as one name or phrase is a tier of its own, counted only when a candidate
    // has it (a sentence is found verbatim nowhere, and then scores stay as they were).
    const phrase = queryPhrase(query);
    const terms =
      phrase && candidates.some((h) => phrase.test(h.text ?? "")) ? [...exact.terms, phrase] : exact.terms;
    // The embedding does not read identifiers: its say shrinks with their share of the query.
    let vectorWeight = weights.vector * (1 - exact.identifierShare);
    if (vectorWeight + weights.keyword === 0) vectorWeight = weights.vector;
    const total = vectorWeight + weights.keyword || 1;
    const byId = new Map(rows.map((r) => [r.id, r]));
    return candidates
      .filter((h) => byId.has(h.id))
      .map((h) => {
        const r = byId.get(h.id)!;
        const blend = (vectorWeight * vs(Number(r.vs)) + weights.keyword * ks(Number(r.ks))) / total;
        // Each exact term found verbatim lifts a candidate a whole tier above those without it.
        const found = terms.filter((t) => t.test(h.text ?? "")).length;
        return { ...h, score: (found + blend) / (terms.length + 1) };
      })
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
      .slice(0, topK);
  }

  private checkQueryVector(name: string, row: CollectionRow, vector: VectorInput): void {
    if (vector.length !== row.dimension) {
      throw new ToolshedError(
        "invalid_input",
        `the query vector has ${vector.length} dimensions but collection '${name}' holds ${row.dimension}-dimension vectors (embedder ${row.embedder})`,
      );
    }
    const problem = vectorValueProblem(vector);
    if (problem) throw new ToolshedError("invalid_input", `the query vector ${problem}`);
  }

  private where(opts: { ids?: string[]; filter?: Filter }, params: unknown[]): string {
    const parts: string[] = [];
    if (opts.ids) {
      params.push(opts.ids);
      parts.push(`id = ANY($${params.length}::text[])`);
    }
    if (opts.filter) {
      try {
        parts.push(compileFilter(opts.filter, params));
      } catch (e) {
        if (e instanceof FilterError) throw new ToolshedError("invalid_input", `filter: ${e.message}`);
        throw e;
      }
    }
    return parts.length ? parts.join(" AND ") : "true";
  }

  /** A collection's settings without counting its documents (cheap; for every search). */
  async collection(name: string): Promise<Omit<CollectionInfo, "count">> {
    const { count: _count, ...rest } = await this.info((await this.resolve(name)).row, false);
    return rest;
  }

  private async resolve(name: string): Promise<Resolved> {
    const cached = this.catalog.get(name);
    if (cached) return { row: cached, table: tableName(cached.id) };
    const [row] = await this.sql.query<CollectionRow>(
      "SELECT * FROM toolshed_vs_collections WHERE name = $1",
      [name],
    );
    // Only PGlite's single owning process can trust a cache; PostgreSQL may be shared by replicas.
    if (row && this.sql.kind === "pglite") this.catalog.set(name, row);
    if (!row) {
      throw new ToolshedError(
        "not_found",
        `collection '${name}' not found; call list_collections to see them`,
      );
    }
    return { row, table: tableName(row.id) };
  }

  private async countRows(table: string): Promise<number> {
    const [r] = await this.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return r?.n ?? 0;
  }

  private async info(row: CollectionRow, count = true): Promise<CollectionInfo> {
    return {
      name: row.name,
      dimension: row.dimension,
      metric: row.metric,
      embedder: row.embedder,
      metadataSchema: row.metadata_schema,
      description: row.description,
      count: count ? await this.countRows(tableName(row.id)) : -1,
      index: row.indexed ? "hnsw" : "none",
      createdAt: new Date(row.created_at).toISOString(),
    };
  }
}

/**
 * A document's words for keyword search: English stems of its text, and again with '.', '_', '/'
 * and ':' read as spaces, so `Element.getBoundingClientRect` is found by `getBoundingClientRect`
 * (PostgreSQL's parser keeps a dotted name as one token). For collections created from now on.
 */
const TSV_OF_TEXT = `to_tsvector('english', coalesce(text, '')) || to_tsvector('english', translate(coalesce(text, ''), '._/:', '    '))`;

/**
 * The parts of a keyword query, from $1 (the query as typed) and $2 (its words without exclusions
 * and quotes): `strict`, the whole query in web-search syntax; `words`, the distinct stems of $2
 * (read both ways, as documents are); `loose`, those words joined with OR, each quoted as a tsquery
 * literal (no tsquery syntax from input).
 */
const KEYWORD_QUERY = `SELECT websearch_to_tsquery('english', $1::text) AS strict, w.words,
    (SELECT coalesce(string_agg('''' || replace(replace(x, '\\', '\\\\'), '''', '''''') || '''', ' | '), '')::tsquery
       FROM unnest(w.words) AS x) AS loose
  FROM (SELECT tsvector_to_array(to_tsvector('english', $2::text)
    || to_tsvector('english', translate($2::text, '._/:', '    '))) AS words) w`;

/** Coverage of the query's words (0.8) and ts_rank_cd's rank scaled into [0, 1) (0.2). */
const KEYWORD_SCORE = `(0.8 * (SELECT count(*) FROM unnest(q.words) AS x WHERE x = ANY(tsvector_to_array(tsv)))::float8
    / greatest(1, cardinality(q.words)) + 0.2 * ts_rank_cd(tsv, q.loose, 32))`;

/** Quotes or a -word: the query means its syntax, so a document must satisfy all of it. */
function requiresWholeQuery(query: string): boolean {
  return query.includes('"') || /(^|\s)-\S/.test(query);
}

/** The query's words with -excluded words and quote marks taken out. */
function looseText(query: string): string {
  return query.replace(/(^|\s)-\S+/g, " ").replace(/"/g, " ");
}

/**
 * A query's exact terms: identifier-like words (camelCase, PascalCase with an inner capital or a
 * leading acronym as in `HTMLElement`, dotted.names, snake_case, optionally with `()`; not `URLs`,
 * `3D` or `e.g.`), matched case-sensitively as whole words (any other character is a boundary, so
 * `IntersectionObserver` is in `IntersectionObserver.observe` but not in
 * `IntersectionObserverEntry`); and "quoted phrases" of two or more words, matched as whole words
 * without regard to case or spacing. identifierShare: identifiers / the query's words.
 */
export function exactTerms(query: string): { terms: RegExp[]; identifierShare: number } {
  const terms = new Map<string, RegExp>();
  for (const [, phrase] of query.matchAll(/"([^"]*)"/g)) {
    const words = phrase!.trim().split(/\s+/).filter(Boolean).map(escapeRegExp);
    if (words.length < 2) continue; // one word: the word rules below
    const source = `(?<![\\w$])${words.join("\\s+")}(?![\\w$])`;
    terms.set(source.toLowerCase(), new RegExp(source, "i"));
  }
  const words = looseText(query)
    .split(/\s+/)
    .map((w) => w.replace(/^[^\w$]+/, "").replace(/(\(\))?[^\w$]*$/, "$1"))
    .filter(Boolean);
  let identifiers = 0;
  for (const w of words) {
    if (!IDENTIFIER.test(w) || /^\w(?:\.\w)+$/.test(w)) continue; // not e.g, i.e
    identifiers++;
    const name = w.replace(/\(\)$/, "");
    terms.set(name, new RegExp(`(?<![\\w$])${escapeRegExp(name)}(?![\\w$])`));
  }
  return { terms: [...terms.values()], identifierShare: words.length ? identifiers / words.length : 0 };
}

/**
 * A query of two or more words, without quotes or exclusions, read as one name or phrase: its words
 * in order, each pair separated by spaces or by one of the characters keyword search reads as a
 * space (`.`, `_`, `/`, `:`), as whole words, without regard to case. So `KeyboardEvent code` finds
 * `KeyboardEvent.code` and `local storage` finds `Local storage`, as if typed that way or quoted.
 * Undefined for one word (the identifier rule's) and for queries with their own syntax.
 */
export function queryPhrase(query: string): RegExp | undefined {
  if (requiresWholeQuery(query)) return undefined;
  const words = query
    .split(/\s+/)
    .map((w) => w.replace(/^[^\w$]+/, "").replace(/[^\w$]+$/, ""))
    .filter(Boolean);
  if (words.length < 2) return undefined;
  return new RegExp(`(?<![\\w$])${words.map(escapeRegExp).join("(?:\\s+|[._/:])")}(?![\\w$])`, "i");
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const IDENTIFIER =
  /^(?:[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+|[A-Za-z_$][\w$]*[a-z0-9][A-Z][\w$]*|[A-Z]{2,}[a-z]{2,}[\w$]*|[A-Za-z$]\w*_\w+)(?:\(\))?$/;

/**
 * Largest vector component taken. pgvector stores float4 (max 3.4e38) and sums squares in float4,
 * so 2,000 components of 4e17 already overflow a norm into Infinity and a score into NaN; real
 * embeddings sit within a few units.
 */
export const MAX_VECTOR_COMPONENT = 1e9;

function checkVectors(
  name: string,
  dimension: number,
  docs: readonly Pick<NewDocument, "id" | "vector">[],
): void {
  for (const d of docs) {
    if (d.vector.length !== dimension) {
      throw new ToolshedError(
        "invalid_input",
        `document '${d.id}' has a ${d.vector.length}-dimension vector but collection '${name}' holds ${dimension}-dimension vectors`,
      );
    }
    const problem = vectorValueProblem(d.vector);
    if (problem) throw new ToolshedError("invalid_input", `document '${d.id}' ${problem}`);
  }
}

/** Why a vector cannot be stored or searched with, or undefined. */
function vectorValueProblem(vector: VectorInput): string | undefined {
  for (const x of vector) {
    if (!Number.isFinite(x)) return "has a vector value that is not a finite number";
    if (Math.abs(x) > MAX_VECTOR_COMPONENT) {
      return `has a vector value of ${x}, beyond ±${MAX_VECTOR_COMPONENT}; scale or normalise the vector`;
    }
  }
  return undefined;
}

function tableName(id: number): string {
  if (!Number.isSafeInteger(id) || id < 1) throw new Error(`bad collection id ${id}`);
  return `toolshed_vs_docs_${id}`;
}

function hnswDdl(table: string, metric: Metric, { m, efConstruction }: HnswOptions): string {
  const int = (n: number, min: number, max: number) => Math.min(max, Math.max(min, Math.trunc(n)));
  return `CREATE INDEX ${table}_hnsw ON ${table} USING hnsw (embedding ${METRIC_SQL[metric].opclass}) WITH (m = ${int(m, 2, 100)}, ef_construction = ${int(efConstruction, 4, 1000)})`;
}

function asObject(v: unknown): Record<string, unknown> {
  if (typeof v === "string") return asObject(JSON.parse(v));
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function hit(r: { id: string; text: string | null; metadata: unknown; score: number }): Hit {
  return { id: r.id, text: r.text, metadata: asObject(r.metadata), score: Number(r.score) };
}

/** Weighted reciprocal-rank fusion of ranked lists (each list's weight defaults to 1). */
export function fuse(lists: Hit[][], topK: number, weights: number[] = []): Hit[] {
  const byId = new Map<string, Hit>();
  for (const [l, list] of lists.entries()) {
    const weight = weights[l] ?? 1;
    if (weight === 0) continue;
    list.forEach((h, rank) => {
      const add = weight / (RRF_K + rank + 1);
      const seen = byId.get(h.id);
      if (seen) seen.score += add;
      else byId.set(h.id, { ...h, score: add });
    });
  }
  return [...byId.values()].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, topK);
}
