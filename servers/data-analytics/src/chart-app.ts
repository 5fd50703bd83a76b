import { MCP_APP_MIME_TYPE, packageVersion } from "@toolshed/server";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { defineResource } from "./deps.js";

/** The chart tool's MCP App page (io.modelcontextprotocol/ui). */
export const CHART_APP_URI = "ui://data-analytics/chart";

const require = createRequire(import.meta.url);
const version = packageVersion(import.meta.url);

/** A file of a dependency's build folder (the folder of its main entry). */
function buildFile(pkg: string, file: string): string {
  return readFileSync(path.join(path.dirname(require.resolve(pkg)), file), "utf8");
}

/**
 * vega-interpreter ships as an ES module importing three helpers of vega-util, which the vega bundle
 * exposes on its global: rewritten into a script that sets `vegaInterpreter`. A new release that
 * changes those two lines fails here, at the first read, not in a user's chart.
 */
function interpreterScript(): string {
  const source = buildFile("vega-interpreter", "vega-interpreter.js");
  const imports = /^import \{ ([\w, ]+) \} from 'vega-util';$/m;
  const exported = /^export \{ expression as expressionInterpreter \};$/m;
  if (!imports.test(source) || !exported.test(source)) {
    throw new Error("vega-interpreter's build changed shape; update chart-app.ts");
  }
  return `(function () {\n${source
    .replace(imports, "const { $1 } = vega;")
    .replace(exported, "window.vegaInterpreter = { expressionInterpreter: expression };")}\n})();`;
}

/**
 * The page's own code: the MCP Apps handshake with the host over postMessage (ui/initialize, then
 * ui/notifications/initialized), then each ui/notifications/tool-result's structuredContent.spec
 * (the Vega-Lite spec, data included) drawn as SVG with vega's CSP-safe expression interpreter, so
 * the spec's default CSP (no eval, no network) is all it needs. `body[data-state]` says where it is:
 * waiting, drawn or error.
 */
const VIEW_SCRIPT = `
(function () {
  "use strict";
  var status = document.getElementById("status");
  var container = document.getElementById("chart");
  var nextId = 1;
  var pending = {};
  var view;
  function post(message) { window.parent.postMessage(Object.assign({ jsonrpc: "2.0" }, message), "*"); }
  function request(method, params) {
    var id = nextId++;
    post({ id: id, method: method, params: params });
    return new Promise(function (resolve, reject) { pending[id] = { resolve: resolve, reject: reject }; });
  }
  function notify(method, params) { post({ method: method, params: params }); }
  function say(state, text) {
    document.body.setAttribute("data-state", state);
    status.textContent = text;
    status.hidden = !text;
  }
  function reportSize() {
    notify("ui/notifications/size-changed", {
      width: Math.ceil(document.documentElement.scrollWidth),
      height: Math.ceil(document.documentElement.scrollHeight)
    });
  }
  function applyContext(context) {
    if (context && (context.theme === "dark" || context.theme === "light")) {
      document.documentElement.style.colorScheme = context.theme;
    }
  }
  function textOf(result) {
    return (result.content || []).filter(function (c) { return c.type === "text"; })
      .map(function (c) { return c.text; }).join("\\n");
  }
  function draw(result) {
    var spec = result && result.structuredContent && result.structuredContent.spec;
    if (result && result.isError) { say("error", textOf(result) || "The chart tool failed."); return; }
    if (!spec || typeof spec !== "object") { say("error", "The tool result has no Vega-Lite spec to draw."); return; }
    try {
      var vlSpec = Object.assign({}, spec, {
        config: Object.assign({}, spec.config, { mark: Object.assign({ tooltip: true }, spec.config && spec.config.mark) })
      });
      var runtime = vega.parse(vegaLite.compile(vlSpec).spec, null, { ast: true });
      if (view) view.finalize();
      container.textContent = "";
      // Vega logs what goes wrong inside its dataflow instead of throwing: an error logged is a failed draw.
      var failures = [];
      var logger = vega.logger(vega.Warn);
      logger.error = function () {
        failures.push(Array.prototype.map.call(arguments, function (a) { return a && a.message ? a.message : String(a); }).join(" "));
        return logger;
      };
      view = new vega.View(runtime, {
        expr: vegaInterpreter.expressionInterpreter,
        renderer: "svg",
        container: container,
        hover: true,
        logger: logger
      });
      view.runAsync().then(function () {
        if (failures.length) { say("error", "Could not draw the chart: " + failures[0]); return; }
        say("drawn", "");
        reportSize();
      }, function (e) { say("error", "Could not draw the chart: " + e.message); });
    } catch (e) {
      say("error", "Could not draw the chart: " + e.message);
    }
  }
  var handlers = {
    "ui/notifications/tool-input": function () { say("waiting", "Plotting\\u2026"); },
    "ui/notifications/tool-result": draw,
    "ui/notifications/tool-cancelled": function (p) { say("error", "The chart was cancelled" + (p && p.reason ? ": " + p.reason : ".")); },
    "ui/notifications/host-context-changed": applyContext
  };
  var requests = {
    "ping": function () { return {}; },
    "ui/resource-teardown": function () { if (view) view.finalize(); return {}; }
  };
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) return;
    var m = event.data;
    if (!m || m.jsonrpc !== "2.0") return;
    if (m.method === undefined && pending[m.id]) {
      var p = pending[m.id];
      delete pending[m.id];
      if (m.error) p.reject(new Error(m.error.message)); else p.resolve(m.result);
    } else if (m.id !== undefined && m.method) {
      var answer = requests[m.method];
      if (answer) post({ id: m.id, result: answer(m.params) });
      else post({ id: m.id, error: { code: -32601, message: "method not found: " + m.method } });
    } else if (m.method && handlers[m.method]) {
      handlers[m.method](m.params);
    }
  });
  say("waiting", "Waiting for the chart\\u2026");
  request("ui/initialize", {
    appInfo: { name: "toolshed-data-analytics-chart", version: ${JSON.stringify(version)} },
    appCapabilities: { availableDisplayModes: ["inline"] },
    protocolVersion: "2026-01-26"
  }).then(function (result) {
    applyContext(result && result.hostContext);
    notify("ui/notifications/initialized", {});
  }, function (e) { say("error", "The host refused the app: " + e.message); });
})();
`;

const STYLE = `
:root { color-scheme: light dark; }
body { margin: 0; font-family: var(--font-sans, system-ui, sans-serif); color: var(--color-text-primary, CanvasText); }
#status { padding: 12px; font-size: var(--font-text-sm-size, 14px); color: var(--color-text-secondary, GrayText); }
body[data-state="error"] #status { color: var(--color-text-danger, #b00020); }
#chart { overflow: auto; }
`;

let page: string | undefined;

/** The page's HTML: vega, vega-lite and the interpreter inline (no network), built once. */
export function chartAppHtml(): string {
  page ??= [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8"><title>Chart</title>',
    `<style>${STYLE}</style></head>`,
    '<body data-state="waiting"><div id="status" role="status"></div><div id="chart"></div>',
    `<script>${buildFile("vega", "vega.min.js")}</script>`,
    `<script>${buildFile("vega-lite", "vega-lite.min.js")}</script>`,
    `<script>${interpreterScript()}</script>`,
    `<script>${VIEW_SCRIPT}</script>`,
    "</body></html>",
  ].join("\n");
  return page;
}

export const chartAppResource = defineResource({
  name: "chart_app",
  title: "Interactive chart (MCP App)",
  description:
    "The chart tool's MCP App: an HTML page that draws the tool's Vega-Lite spec (structuredContent.spec) with tooltips. Self-contained: it loads nothing from the network.",
  mimeType: MCP_APP_MIME_TYPE,
  uri: CHART_APP_URI,
  read: (uri) => [
    {
      uri: uri.href,
      mimeType: MCP_APP_MIME_TYPE,
      text: chartAppHtml(),
      // No domains: scripts and styles are inline, the data comes in the tool result.
      _meta: { ui: { csp: { connectDomains: [], resourceDomains: [] }, prefersBorder: true } },
    },
  ],
});
