/**
 * Open sessions per principal, so one principal cannot take every session slot and lock the others
 * out. Slots are reserved when an initialize starts (concurrent initializes count) and held until
 * the session closes or the initialize fails.
 */
export class SessionLimits {
  readonly #open = new Map<string, number>();

  constructor(readonly perPrincipal: number) {}

  /** Takes a slot for `owner`; returns its release, or undefined when the owner is at the cap. */
  reserve(owner: string): (() => void) | undefined {
    const held = this.#open.get(owner) ?? 0;
    if (held >= this.perPrincipal) return undefined;
    this.#open.set(owner, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.#open.get(owner) ?? 1) - 1;
      if (now > 0) this.#open.set(owner, now);
      else this.#open.delete(owner);
    };
  }

  /** Sessions held by `owner` (for tests). */
  held(owner: string): number {
    return this.#open.get(owner) ?? 0;
  }

  /** The refusal message: what happened and what to do. */
  message(): string {
    return (
      `this principal already has ${this.perPrincipal} open sessions (the per-principal cap); ` +
      "close sessions you no longer use with DELETE /mcp and their Mcp-Session-Id, or wait for idle ones to expire"
    );
  }
}
