import { existsSync } from "node:fs";
import * as path from "node:path";
import type { TestClient } from "@toolshed/testing";
import { MCP_APP_MIME_TYPE, MCP_APPS_EXTENSION } from "@toolshed/server";
import { chromium, type Browser, type Frame, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, client, tempDataDir } from "./helpers.js";

const APP_URI = "ui://data-analytics/chart";
const APPS = { extensions: { [MCP_APPS_EXTENSION]: { mimeTypes: [MCP_APP_MIME_TYPE] } } };

/** The system chromium (Debian's `chromium` package), or TOOLSHED_CHROMIUM. */
function findChromium(): string | undefined {
  const given = process.env.TOOLSHED_CHROMIUM;
  if (given) return existsSync(given) ? given : undefined;
  const dirs = (process.env.PATH ?? "").split(path.delimiter);
  for (const name of ["chromium", "chromium-browser"]) {
    for (const dir of dirs) if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}
const chromiumPath = findChromium();
if (!chromiumPath) {
  const message =
    "chromium is not installed; the chart MCP App test renders the app in headless Chromium " +
    "(install it: apt-get update && apt-get install -y chromium, or set TOOLSHED_CHROMIUM to a Chrome/Chromium binary)";
  if (process.env.CI) throw new Error(`${message} (CI must provide it)`);
  process.stderr.write(`\n[toolshed] SKIPPING the chart MCP App rendering test: ${message}\n`);
}

const data = tempDataDir();
/** Each server its own data dir: one DuckDB file per process. */
const plainData = tempDataDir();
let apps: TestClient;
let plain: TestClient;

beforeAll(async () => {
  apps = await client({ dataDir: data.dir }, { capabilities: APPS });
  plain = await client({ dataDir: plainData.dir });
  await call(apps, "register_dataset", { name: "sales", path: "sales.csv" });
  await call(plain, "register_dataset", { name: "sales", path: "sales.csv" });
});
afterAll(async () => {
  await apps.close();
  await plain.close();
  data.cleanup();
  plainData.cleanup();
});

const BAR = { type: "bar", name: "sales", x: "region", y: "amount", aggregate: "sum" };

describe("chart as an MCP App: what clients see", () => {
  it("links the chart tool to its ui:// page for clients that declare the extension", async () => {
    expect(apps.client.getServerCapabilities()?.extensions).toHaveProperty([MCP_APPS_EXTENSION]);
    const chart = (await apps.client.listTools()).tools.find((t) => t.name === "chart");
    expect(chart?._meta).toEqual({ ui: { resourceUri: APP_URI } });
    const listed = (await apps.client.listResources()).resources.find((r) => r.uri === APP_URI);
    expect(listed).toMatchObject({ mimeType: MCP_APP_MIME_TYPE });
  });

  it("shows clients without it the tool and resources as before", async () => {
    const tools = (await plain.client.listTools()).tools;
    expect(tools.find((t) => t.name === "chart")).not.toHaveProperty("_meta");
    expect(tools.every((t) => t._meta === undefined)).toBe(true);
    const resources = (await plain.client.listResources()).resources;
    expect(resources.some((r) => r.uri.startsWith("ui://"))).toBe(false);
    // The result itself is the same for both: text and PNG, the spec in structuredContent.
    const [a, b] = await Promise.all([
      apps.client.callTool({ name: "chart", arguments: BAR }),
      plain.client.callTool({ name: "chart", arguments: BAR }),
    ]);
    expect(a).toEqual(b);
    expect((b.content as { type: string }[]).map((c) => c.type)).toEqual(["text", "image"]);
  });

  it("serves a self-contained page: the MCP App MIME type, no domains in its CSP, nothing fetched", async () => {
    const { contents } = await apps.client.readResource({ uri: APP_URI });
    expect(contents).toHaveLength(1);
    const page = contents[0] as { uri: string; mimeType: string; text: string; _meta?: unknown };
    expect(page).toMatchObject({
      uri: APP_URI,
      mimeType: MCP_APP_MIME_TYPE,
      _meta: { ui: { csp: { connectDomains: [], resourceDomains: [] } } },
    });
    expect(page.text.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(page.text).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
    // vega, vega-lite and the expression interpreter inline: well under a megabyte.
    expect(page.text.length).toBeLessThan(1_000_000);
  });
});

/** What the spec tells a host to apply when a UI resource declares no domains. */
const DEFAULT_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; media-src 'self' data:; connect-src 'none'; frame-src 'none'; " +
  "object-src 'none'; base-uri 'self'";

/**
 * The host's side, run in the host page (plain JS: this package's tests have no DOM types). It
 * answers ui/initialize and, after ui/notifications/initialized, sends the tool's input and result.
 */
const HOST_SCRIPT = `function (args, result) {
  window.received = [];
  const frame = document.getElementById("app");
  const send = (message) => frame.contentWindow.postMessage(Object.assign({ jsonrpc: "2.0" }, message), "*");
  window.addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow) return;
    const m = event.data;
    window.received.push(m);
    if (m.method === "ui/initialize") {
      send({
        id: m.id,
        result: {
          protocolVersion: "2026-01-26",
          hostInfo: { name: "toolshed-test-host", version: "0.0.0" },
          hostCapabilities: {},
          hostContext: { theme: "light", displayMode: "inline", containerDimensions: { width: 720, maxHeight: 600 } },
        },
      });
    } else if (m.method === "ui/notifications/initialized") {
      send({ method: "ui/notifications/tool-input", params: { arguments: args } });
      send({ method: "ui/notifications/tool-result", params: result });
    }
  });
  frame.src = "https://view.test/chart.html";
}`;

interface Hosted {
  page: Page;
  view: Frame;
  /** Every JSON-RPC message the view sent the host, in order. */
  received(): Promise<{ id?: number; method?: string; params?: Record<string, unknown> }[]>;
  /** Requests the page made beyond the host and the view: must stay empty. */
  stray: string[];
  /** Console errors (a CSP violation among them). */
  errors: string[];
}

/**
 * Plays a host: a page at https://host.test holding the app in a sandboxed iframe (scripts only,
 * an opaque origin) served with the spec's default CSP. The host answers ui/initialize, and after
 * ui/notifications/initialized sends the tool's input and then its result, as the extension says.
 */
async function host(browser: Browser, html: string, args: unknown, result: unknown): Promise<Hosted> {
  const page = await browser.newPage();
  const stray: string[] = [];
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url === "https://host.test/") {
      return route.fulfill({
        contentType: "text/html",
        body: '<!DOCTYPE html><html><body><iframe id="app" sandbox="allow-scripts" style="width:720px;height:480px;border:0"></iframe></body></html>',
      });
    }
    if (url === "https://view.test/chart.html") {
      return route.fulfill({
        contentType: "text/html",
        headers: { "content-security-policy": DEFAULT_CSP },
        body: html,
      });
    }
    stray.push(url);
    return route.abort();
  });
  await page.goto("https://host.test/");
  await page.evaluate(`(${HOST_SCRIPT})(${JSON.stringify(args)}, ${JSON.stringify(result)})`);
  const frameHandle = await page.waitForSelector("#app");
  let view: Frame | null = null;
  for (
    let i = 0;
    i < 100 && !(view = await frameHandle.contentFrame())?.url().startsWith("https://view");
    i++
  ) {
    await page.waitForTimeout(50);
  }
  return {
    page,
    view: view!,
    received: () => page.evaluate("window.received"),
    stray,
    errors,
  };
}

describe.runIf(chromiumPath)("chart as an MCP App: drawn in headless Chromium", () => {
  let browser: Browser;
  let html: string;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
    const { contents } = await apps.client.readResource({ uri: APP_URI });
    html = (contents[0] as { text: string }).text;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("draws the tool result's bars from its spec and data under the default CSP", async () => {
    const result = await apps.client.callTool({ name: "chart", arguments: BAR });
    const h = await host(browser, html, BAR, result);
    try {
      await h.view.waitForSelector('body[data-state="drawn"], body[data-state="error"]', { timeout: 30_000 });
      expect(await h.view.textContent("#status")).toBe("");
      expect(await h.view.getAttribute("body", "data-state")).toBe("drawn");
      // One bar per region, each labelled with its region and its sum.
      const bars = await Promise.all(
        (await h.view.locator('svg .mark-rect [aria-roledescription="bar"]').all()).map((bar) =>
          bar.getAttribute("aria-label"),
        ),
      );
      expect(bars).toHaveLength(4);
      for (const [region, sum] of [
        ["north", "60.97"],
        ["south", "55.46"],
        ["east", "49.95"],
        ["west", "12.25"],
      ] as const) {
        expect(
          bars.some((l) => l?.includes(region) && l.includes(sum)),
          `${region} ${sum} in ${bars.join(" | ")}`,
        ).toBe(true);
      }
      const svg = h.view.locator("svg");
      const size = {
        width: Number(await svg.getAttribute("width")),
        height: Number(await svg.getAttribute("height")),
      };
      expect(size).toEqual({ width: 640, height: 400 });
      // The handshake as the extension has it, then the page tells the host its size.
      const methods = (await h.received()).map((m) => m.method);
      expect(methods.slice(0, 2)).toEqual(["ui/initialize", "ui/notifications/initialized"]);
      expect(methods).toContain("ui/notifications/size-changed");
      const init = (await h.received())[0]!;
      expect(init.params).toMatchObject({
        protocolVersion: "2026-01-26",
        appInfo: { name: expect.any(String) },
      });
      expect(h.stray).toEqual([]);
      expect(h.errors).toEqual([]);
    } finally {
      await h.page.close();
    }
  }, 60_000);

  it("draws a scatter chart's points, one per row", async () => {
    const args = { type: "scatter", name: "sales", x: "units", y: "amount", color: "region" };
    const result = await apps.client.callTool({ name: "chart", arguments: args });
    const h = await host(browser, html, args, result);
    try {
      await h.view.waitForSelector('body[data-state="drawn"], body[data-state="error"]', { timeout: 30_000 });
      expect(await h.view.textContent("#status")).toBe("");
      // Six rows, one with a NULL unit (left out, as on the image): five points.
      expect(await h.view.locator('svg .mark-symbol [aria-roledescription="point"]').count()).toBe(5);
      expect(h.errors).toEqual([]);
    } finally {
      await h.page.close();
    }
  }, 60_000);

  it("says so when the tool failed, instead of drawing", async () => {
    const args = { type: "bar", name: "nope", x: "region" };
    const result = await apps.client.callTool({ name: "chart", arguments: args });
    expect(result.isError).toBe(true);
    const h = await host(browser, html, args, result);
    try {
      await h.view.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
      expect(await h.view.textContent("#status")).toContain("nope");
      expect(await h.view.$("svg")).toBeNull();
    } finally {
      await h.page.close();
    }
  }, 60_000);
});
