import {
  MCP_APP_MIME_TYPE,
  MCP_APPS_EXTENSION,
  defineResource,
  defineServer,
  defineTool,
  z,
} from "@toolshed/server";
import { definitionProblems } from "@toolshed/server/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHttpServer, type TestHttpServer } from "../src/index.js";

// MCP Apps (io.modelcontextprotocol/ui): a tool's `ui` link and the ui:// pages reach only clients
// that declare the extension, on both protocol eras; others see the server as it was without them.
const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const PAGE = "ui://apps-test/view";

const show = defineTool({
  name: "show",
  title: "Show a number",
  description: "Answers a number, drawn by the app page for clients that render MCP Apps.",
  input: z.object({}),
  output: z.object({ n: z.number() }),
  annotations: hints,
  ui: { resourceUri: PAGE },
  handler: () => ({ n: 7 }),
});
const plainTool = defineTool({ ...show, name: "plain", ui: undefined });
const page = defineResource({
  name: "view",
  title: "The view",
  description: "The app page of the show tool.",
  mimeType: MCP_APP_MIME_TYPE,
  uri: PAGE,
  read: (uri) => [
    {
      uri: uri.href,
      mimeType: MCP_APP_MIME_TYPE,
      text: "<!DOCTYPE html><p>7</p>",
      _meta: { ui: { prefersBorder: true } },
    },
  ],
});
const notes = defineResource({
  name: "note",
  title: "A note",
  description: "A listed template resource, listed to every client.",
  mimeType: "text/plain",
  uriTemplate: "note://{id}",
  list: () => Promise.resolve([{ uri: "note://1", name: "note 1" }]),
  read: (uri) => [{ uri: uri.href, text: "one" }],
});
const server = defineServer({
  name: "apps-test",
  version: "1.0.0",
  tools: [show, plainTool],
  resources: [page, notes],
});
const APPS = { extensions: { [MCP_APPS_EXTENSION]: { mimeTypes: [MCP_APP_MIME_TYPE] } } };

describe("MCP Apps in the kit", () => {
  let srv: TestHttpServer;
  beforeAll(async () => {
    srv = await startTestHttpServer(server);
  });
  afterAll(async () => srv.close(1_000));

  for (const era of ["legacy", "modern"] as const) {
    it(`links tools and lists ui:// pages only for clients declaring the extension (${era})`, async () => {
      const apps = await srv.connect(APPS, undefined, era);
      const plain = await srv.connect({}, undefined, era);
      // Declaring the extension without the HTML profile is not enough: mimeTypes is required.
      const noHtml = await srv.connect({ extensions: { [MCP_APPS_EXTENSION]: {} } }, undefined, era);
      try {
        const tools = (await apps.listTools()).tools;
        expect(tools.find((t) => t.name === "show")?._meta).toEqual({ ui: { resourceUri: PAGE } });
        expect(tools.find((t) => t.name === "plain")).not.toHaveProperty("_meta");
        for (const other of [plain, noHtml]) {
          expect((await other.listTools()).tools.some((t) => "_meta" in t)).toBe(false);
          expect((await other.listResources()).resources.map((r) => r.uri)).toEqual(["note://1"]);
        }
        const listed = (await apps.listResources()).resources;
        expect(listed.map((r) => r.uri)).toEqual([PAGE, "note://1"]);
        expect(listed[0]).toMatchObject({ name: "view", title: "The view", mimeType: MCP_APP_MIME_TYPE });
        expect(listed[1]).toMatchObject({ name: "note 1", title: "A note", mimeType: "text/plain" });
        const read = await apps.readResource({ uri: PAGE });
        expect(read.contents[0]).toMatchObject({
          mimeType: MCP_APP_MIME_TYPE,
          _meta: { ui: { prefersBorder: true } },
        });
        expect(apps.getServerCapabilities()?.extensions).toHaveProperty([MCP_APPS_EXTENSION]);
      } finally {
        await Promise.all([apps.close(), plain.close(), noHtml.close()]);
      }
    });
  }

  it("refuses a ui link that is not a ui:// page of the server", () => {
    const bad = defineServer({
      ...server,
      resources: [notes],
      tools: [{ ...show, ui: { resourceUri: "note://1" } }],
    });
    expect(definitionProblems(bad)).toEqual([
      `tool 'show': ui.resourceUri 'note://1' must be a ui:// resource of this server with mimeType ${MCP_APP_MIME_TYPE}`,
    ]);
    expect(definitionProblems(server)).toEqual([]);
  });
});
