export interface BreakerOptions {
  /** Consecutive failures (connection errors, timeouts, 5xx) that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before one trial request is let through. */
  cooldownMs: number;
}

export type BreakerState = "closed" | "open" | "half-open";

/** What `acquire` hands out: a normal pass, the single half-open trial, or a refusal. */
export type BreakerPermit =
  | { readonly kind: "pass" }
  | { readonly kind: "trial" }
  | { readonly kind: "open"; readonly retryAfterMs: number; readonly failures: number };

const PASS: BreakerPermit = { kind: "pass" };
const TRIAL: BreakerPermit = { kind: "trial" };

/**
 * A circuit breaker for one origin: closed -> open after `failureThreshold` consecutive failures ->
 * half-open after `cooldownMs`, when exactly one trial request goes through; its success closes the
 * breaker, its failure opens it for another cooldown. While open, requests fail at once instead of
 * piling onto an upstream that is down.
 */
export class CircuitBreaker {
  private state: BreakerState = "closed";
  private failures = 0;
  private openUntil = 0;
  private trialInFlight = false;

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get current(): BreakerState {
    return this.state;
  }

  acquire(): BreakerPermit {
    if (this.state === "closed") return PASS;
    const now = this.now();
    if (this.state === "open") {
      if (now < this.openUntil) return this.refusal(this.openUntil - now);
      this.state = "half-open";
    }
    if (this.trialInFlight) return this.refusal(Math.max(0, this.openUntil - now));
    this.trialInFlight = true;
    return TRIAL;
  }

  /** The upstream answered (any status below 500, 429 included): it is up. */
  onSuccess(permit: BreakerPermit): void {
    if (permit.kind === "trial") this.trialInFlight = false;
    this.failures = 0;
    this.state = "closed";
  }

  /** A connection error, timeout or 5xx. */
  onFailure(permit: BreakerPermit): void {
    if (permit.kind === "trial") this.trialInFlight = false;
    this.failures++;
    if (
      permit.kind === "trial" ||
      (this.state === "closed" && this.failures >= this.options.failureThreshold)
    ) {
      this.state = "open";
      this.openUntil = this.now() + this.options.cooldownMs;
    }
  }

  /** The attempt ended without telling anything about the upstream (the caller cancelled it). */
  onNeutral(permit: BreakerPermit): void {
    if (permit.kind === "trial") this.trialInFlight = false;
  }

  private refusal(retryAfterMs: number): BreakerPermit {
    return { kind: "open", retryAfterMs, failures: this.failures };
  }
}
