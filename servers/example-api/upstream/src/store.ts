import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

export interface Resource {
  id: string;
  name: string;
  description: string;
  category: string;
  created_at: string;
  updated_at: string;
}

export interface ResourceInput {
  name: string;
  description: string;
  category: string;
}

/**
 * Resources in memory, saved to one JSON file after every change. A change is acknowledged only
 * once it is on disk, and the file is replaced atomically (write a temp file, fsync, rename, fsync
 * the directory), so a crash leaves either the old file or the new one, never half of one.
 */
export class ResourceStore {
  private items = new Map<string, Resource>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly file: string) {}

  static async open(file: string): Promise<ResourceStore> {
    const store = new ResourceStore(file);
    await mkdir(dirname(file), { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as { resources?: Resource[] };
      for (const r of parsed.resources ?? []) store.items.set(r.id, r);
    }
    return store;
  }

  list(): Resource[] {
    return [...this.items.values()];
  }

  get(id: string): Resource | undefined {
    return this.items.get(id);
  }

  create(input: ResourceInput): Promise<Resource> {
    return this.change((next) => {
      const now = new Date().toISOString();
      const resource: Resource = { id: randomUUID(), ...input, created_at: now, updated_at: now };
      next.set(resource.id, resource);
      return resource;
    });
  }

  replace(id: string, input: ResourceInput): Promise<Resource | undefined> {
    return this.change((next) => {
      const old = next.get(id);
      if (!old) return undefined;
      let updated = new Date().toISOString();
      // Keep updated_at strictly increasing even when two changes land in the same millisecond.
      if (updated <= old.updated_at) updated = new Date(Date.parse(old.updated_at) + 1).toISOString();
      const resource: Resource = { ...old, ...input, updated_at: updated };
      next.set(id, resource);
      return resource;
    });
  }

  delete(id: string): Promise<boolean> {
    return this.change((next) => next.delete(id));
  }

  /** Applies `fn` to a copy, saves the copy, and only then makes it current (one change at a time). */
  private change<T>(fn: (next: Map<string, Resource>) => T): Promise<T> {
    const run = this.queue.then(async () => {
      const next = new Map(this.items);
      const result = fn(next);
      await this.save(next);
      this.items = next;
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async save(items: Map<string, Resource>): Promise<void> {
    const tmp = `${this.file}.${process.pid}.${randomUUID()}.tmp`;
    const text = JSON.stringify({ resources: [...items.values()] }, null, 2) + "\n";
    try {
      const handle = await open(tmp, "w", 0o600);
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    // The rename is durable only once the directory entry is on disk.
    const dir = await open(dirname(this.file), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
