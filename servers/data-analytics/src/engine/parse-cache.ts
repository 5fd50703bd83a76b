/**
 * DuckDB's parse of recent user statements (json_serialize_sql's JSON), by their exact text, in the
 * engine host. The parse is a function of the text alone: the host's DuckDB is one version, loads no
 * extensions, and its configuration is locked at open (user SQL cannot SET), so the same text always
 * parses the same. Only the parse is kept: the tree check runs on the cached tree every time, and
 * the statement is bound against the catalog as it is when it runs, so a dropped dataset is seen.
 */
export class ParseCache {
  /** Insertion order is recency: a hit moves its entry to the end, eviction takes from the front. */
  private readonly entries = new Map<string, string>();
  private chars = 0;
  hits = 0;
  misses = 0;

  constructor(
    /** Most statements kept. */
    readonly maxEntries = 256,
    /** Most characters kept, statements and their trees together (a tree is ~20x its statement). */
    readonly maxChars = 4 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Whether `sql` is cached, without counting a hit or refreshing it. */
  has(sql: string): boolean {
    return this.entries.has(sql);
  }

  get(sql: string): string | undefined {
    const tree = this.entries.get(sql);
    if (tree === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(sql);
    this.entries.set(sql, tree);
    return tree;
  }

  set(sql: string, tree: string): void {
    const cost = sql.length + tree.length;
    // One statement bigger than a quarter of the budget would evict many small ones for one reuse.
    if (cost > this.maxChars / 4) return;
    const old = this.entries.get(sql);
    if (old !== undefined) {
      this.entries.delete(sql);
      this.chars -= sql.length + old.length;
    }
    this.entries.set(sql, tree);
    this.chars += cost;
    for (const [key, value] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) break;
      this.entries.delete(key);
      this.chars -= key.length + value.length;
    }
  }
}
