import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../src/breaker.js";
import { formatPath, statusError } from "../src/errors.js";
import { EtagCache } from "../src/etag-cache.js";
import { Limiter } from "../src/limiter.js";
import { Cancellation } from "../src/transport.js";
import { redactQuery, scrubText } from "../src/redact.js";
import { backoffDelay, isIdempotent, parseRetryAfter } from "../src/retry.js";
import { HostAllowList } from "../src/ssrf/guard.js";
import { nonPublicReason } from "../src/ssrf/ip-ranges.js";

describe("nonPublicReason", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["169.254.169.254", "metadata"],
    ["169.254.1.1", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["::ffff:10.0.0.1", "private"],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::127.0.0.1", "loopback"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["2002:7f00:1::", "loopback"],
    ["fc00::1", "unique local"],
    ["fd00:ec2::254", "unique local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf::1", "link-local"],
    ["fec0::1", "site-local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["2001::1", "Teredo"],
    ["not-an-ip", "not an IP"],
  ])("refuses %s (%s)", (address, reason) => {
    expect(nonPublicReason(address)).toContain(reason);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2a00:1450::1",
  ])("allows the public address %s", (address) => {
    expect(nonPublicReason(address)).toBeUndefined();
  });
});

describe("HostAllowList", () => {
  it("matches exact names case-insensitively, *.suffix subdomains, and * for any host", () => {
    const list = new HostAllowList([
      "api.github.com",
      "*.githubusercontent.com",
      "https://Example.org:8443/x",
    ]);
    expect(list.allows("API.github.com")).toBe(true);
    expect(list.allows("raw.githubusercontent.com")).toBe(true);
    expect(list.allows("githubusercontent.com")).toBe(false);
    expect(list.allows("evilgithubusercontent.com")).toBe(false);
    expect(list.allows("example.org")).toBe(true);
    expect(list.allows("github.com")).toBe(false);
    expect(new HostAllowList(["*"]).allows("anything.example")).toBe(true);
    expect(new HostAllowList(["::1"]).allows("[::1]")).toBe(true);
  });
});

describe("retry helpers", () => {
  it("parses Retry-After as seconds or an HTTP date, and ignores garbage", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter(["7"], now)).toBe(7000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it("draws full-jitter backoff in [0, min(max, base * 2^n)]", () => {
    expect(backoffDelay(0, 100, 1000, () => 0)).toBe(0);
    expect(backoffDelay(0, 100, 1000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 1000, () => 0.999)).toBe(799);
    expect(backoffDelay(10, 100, 1000, () => 0.999)).toBe(999);
    const draws = Array.from({ length: 200 }, () => backoffDelay(2, 100, 1000));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(400);
    expect(new Set(draws).size).toBeGreaterThan(20);
  });

  it("treats GET, HEAD, OPTIONS, PUT and DELETE as idempotent, POST and PATCH only when told", () => {
    for (const m of ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"] as const)
      expect(isIdempotent(m, undefined)).toBe(true);
    expect(isIdempotent("POST", undefined)).toBe(false);
    expect(isIdempotent("PATCH", undefined)).toBe(false);
    expect(isIdempotent("POST", true)).toBe(true);
  });
});

describe("CircuitBreaker", () => {
  it("opens after N consecutive failures, lets one trial through after the cooldown, and closes on its success", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000 }, () => now);
    for (let i = 0; i < 2; i++) breaker.onFailure(breaker.acquire());
    breaker.onSuccess(breaker.acquire()); // a success resets the count
    for (let i = 0; i < 3; i++) breaker.onFailure(breaker.acquire());
    expect(breaker.current).toBe("open");
    const refused = breaker.acquire();
    expect(refused).toMatchObject({ kind: "open", retryAfterMs: 1000, failures: 3 });
    now = 1000;
    const trial = breaker.acquire();
    expect(trial.kind).toBe("trial");
    expect(breaker.acquire().kind).toBe("open"); // only one trial at a time
    breaker.onFailure(trial);
    expect(breaker.current).toBe("open");
    now = 1500;
    expect(breaker.acquire()).toMatchObject({ kind: "open", retryAfterMs: 500 });
    now = 2000;
    const second = breaker.acquire();
    breaker.onNeutral(second); // a cancelled trial frees the slot without a verdict
    const third = breaker.acquire();
    expect(third.kind).toBe("trial");
    breaker.onSuccess(third);
    expect(breaker.current).toBe("closed");
    expect(breaker.acquire().kind).toBe("pass");
  });
});

describe("EtagCache", () => {
  const entry = (bytes: number) => ({ etag: '"x"', status: 200, headers: {}, body: Buffer.alloc(bytes) });

  it("evicts the least recently used entry past maxEntries", () => {
    const cache = new EtagCache({ maxEntries: 2 });
    cache.set("a", entry(1));
    cache.set("b", entry(1));
    cache.get("a");
    cache.set("c", entry(1));
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBeDefined();
    expect(cache.get("c")).toBeDefined();
  });

  it("keeps the byte total under maxBytes and skips bodies larger than it", () => {
    const cache = new EtagCache({ maxBytes: 100 });
    cache.set("a", entry(60));
    cache.set("b", entry(30));
    cache.set("c", entry(30));
    expect(cache.get("a")).toBeUndefined();
    expect(cache.totalBytes).toBe(60);
    cache.set("huge", entry(101));
    expect(cache.get("huge")).toBeUndefined();
    expect(cache.size).toBe(2);
  });
});

describe("Limiter", () => {
  it("queues past the limit in order and drops a waiter whose call is cancelled", async () => {
    const limiter = new Limiter(1);
    expect(limiter.acquire(undefined)).toBeUndefined();
    const order: string[] = [];
    const cancel = new Cancellation();
    const a = limiter.acquire(cancel)!.then(() => order.push("a"));
    const b = limiter.acquire(undefined)!.then(() => order.push("b"));
    expect(limiter.queued).toBe(2);
    cancel.abort(new Error("gone"));
    await expect(a).rejects.toThrow("gone");
    expect(limiter.queued).toBe(1);
    limiter.release();
    await b;
    expect(order).toEqual(["b"]);
    limiter.release();
    expect(limiter.inFlight).toBe(0);
  });
});

describe("redaction", () => {
  it("redacts secret query parameters and keeps the rest", () => {
    expect(redactQuery("?access_token=abc&page=2&key=k&token=t&api_key=z&X-Amz-Signature=s&q=token")).toBe(
      "?access_token=REDACTED&page=2&key=REDACTED&token=REDACTED&api_key=REDACTED&X-Amz-Signature=REDACTED&q=token",
    );
    expect(redactQuery("")).toBe("");
  });

  it("scrubs the values we sent and credential-shaped text", () => {
    const out = scrubText("bad token s3cr3t-value, Bearer abcdefghijkl, password=hunter22", ["s3cr3t-value"]);
    expect(out).not.toContain("s3cr3t-value");
    expect(out).not.toContain("abcdefghijkl");
    expect(out).not.toContain("hunter22");
  });

  it("names zod paths the way a reader writes them", () => {
    expect(formatPath(["items", 1, "id"])).toBe("items[1].id");
    expect(formatPath([])).toBe("(root)");
    expect(formatPath(["a-b", "c"])).toBe('["a-b"].c');
  });
});

describe("statusError", () => {
  it("copies the asked-for response headers into details, scrubbing credentials", () => {
    const err = statusError(
      { upstream: "github", method: "GET", target: "/x", secrets: ["s3cret"] },
      403,
      { "x-accepted-github-permissions": "issues=write", "x-other": "s3cret", "x-skip": "1" },
      undefined,
      1,
      Date.now(),
      ["x-accepted-github-permissions", "x-other", "x-missing"],
    );
    expect(err.details?.headers).toEqual({
      "x-accepted-github-permissions": "issues=write",
      "x-other": "REDACTED",
    });
  });
});
