import { stat, readFile } from "node:fs/promises";
import { ToolshedError } from "@toolshed/server";
import { z } from "@toolshed/server";

const tokensSchema = z.record(z.string().min(1), z.string().min(1));

/**
 * Each HTTP caller's own GitHub token, from a JSON file mapping the caller's id (the kit's API key
 * id, or a JWT's `sub`) to a token: `{ "alice": "github_pat_…" }`. The file must not be readable by
 * group or others (mode 0600). It is read again when it changes, so tokens rotate without a restart.
 * Tokens never reach a log line or an error message.
 */
export class CallerTokens {
  private tokens = new Map<string, string>();
  private mtimeMs = -1;
  private checkedAt = 0;

  constructor(readonly file: string) {}

  /** Reads the file now (at start), so a bad file stops the server instead of its first call. */
  async load(): Promise<this> {
    await this.refresh(true);
    return this;
  }

  /** The caller's token, or undefined when the file names none for them. */
  async tokenFor(callerId: string): Promise<string | undefined> {
    await this.refresh(false);
    return this.tokens.get(callerId);
  }

  private async refresh(force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    let info;
    try {
      info = await stat(this.file);
    } catch (err) {
      throw new ToolshedError(
        "unauthenticated",
        `the caller tokens file ${this.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"}); create it with mode 0600`,
      );
    }
    if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
      throw new ToolshedError(
        "unauthenticated",
        `the caller tokens file ${this.file} is readable by others (mode ${(info.mode & 0o777).toString(8)}): run chmod 600 on it`,
      );
    }
    if (!force && info.mtimeMs === this.mtimeMs) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(this.file, "utf8"));
    } catch {
      // The parser's message may quote the file's text, tokens included: it is not repeated.
      throw new ToolshedError("unauthenticated", `the caller tokens file ${this.file} is not valid JSON`);
    }
    const result = tokensSchema.safeParse(parsed);
    if (!result.success) {
      throw new ToolshedError(
        "unauthenticated",
        `the caller tokens file ${this.file} must be one JSON object mapping caller ids to GitHub tokens, e.g. {"alice": "github_pat_..."}`,
      );
    }
    this.tokens = new Map(Object.entries(result.data));
    this.mtimeMs = info.mtimeMs;
  }
}
