/** What the kit's `ctx.progress` looks like. */
export type ProgressFn = (progress: number, total?: number, message?: string) => Promise<void>;

/**
 * One call's progress as a percentage (total 100) that only ever goes up, as MCP requires of
 * progress notifications. Work in phases (a download, then a load) maps each phase's own 0-100
 * onto its share of the whole; a heartbeat nudges the value up by a tenth when a phase cannot tell
 * how far it is.
 */
export class Progress {
  private last = -1;

  constructor(private readonly sink: ProgressFn | undefined) {}

  get enabled(): boolean {
    return this.sink !== undefined;
  }

  /** Sends `percent` (0-100 of the whole) if it is higher than the last one sent. */
  report(percent: number, message: string): void {
    if (!this.sink) return;
    const value = Math.min(100, Math.round(percent * 10) / 10);
    if (value <= this.last) return;
    this.last = value;
    void this.sink(value, 100, message).catch(() => undefined);
  }

  /** A sign of life below `ceiling` when the phase's own percentage is unknown. */
  heartbeat(ceiling: number, message: string): void {
    this.report(Math.min(ceiling - 0.1, Math.max(this.last, 0) + 0.1), message);
  }

  /** The part of the whole from `from` to `to` percent, as a reporter of that phase's percentage. */
  phase(from: number, to: number): Phase {
    return {
      report: (percent, message) => this.report(from + ((to - from) * percent) / 100, message),
      heartbeat: (message) => this.heartbeat(to, message),
      enabled: this.enabled,
    };
  }
}

export interface Phase {
  report(percent: number, message: string): void;
  heartbeat(message: string): void;
  readonly enabled: boolean;
}
