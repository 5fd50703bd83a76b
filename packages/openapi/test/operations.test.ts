import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadDocument,
  OpenApiError,
  parseDocument,
  type OpenApiDocument,
  type Schema,
} from "../src/document.js";
import { collectCredentials, collectOperations } from "../src/operations.js";
import { zodExpression } from "../src/zod-emit.js";
import { fixtures } from "./helpers.js";

const features = () => loadDocument(join(fixtures, "features.json"));

describe("reading documents", () => {
  it("reads YAML and JSON, 3.0 and 3.1", async () => {
    expect((await loadDocument(join(fixtures, "petstore.yaml"))).openapi).toBe("3.0.0");
    expect((await features()).openapi).toBe("3.1.0");
  });

  it("refuses Swagger 2.0, other versions and garbage with a message that says what to do", () => {
    expect(() => parseDocument('{"swagger":"2.0","info":{"title":"x"}}')).toThrow(/convert it to OpenAPI 3/);
    expect(() => parseDocument("openapi: 4.0.0\ninfo: {title: x}")).toThrow(/3\.0\.x or 3\.1\.x/);
    expect(() => parseDocument("openapi: [")).toThrow(OpenApiError);
  });

  it("refuses external $refs, naming the ref", () => {
    const doc = parseDocument(
      JSON.stringify({
        openapi: "3.0.3",
        info: { title: "x", version: "1" },
        paths: { "/a": { get: { parameters: [{ $ref: "other.yaml#/p" }], responses: {} } } },
      }),
    );
    expect(() => collectOperations(doc)).toThrow(/'other\.yaml#\/p' points outside the document/);
  });
});

describe("collecting operations", () => {
  it("names tools from operationIds, leaves out x-mcp: false and skips non-JSON bodies with a reason", async () => {
    const { operations, skipped } = collectOperations(await features());
    expect(operations.map((o) => o.name)).toEqual([
      "get_thing_by_id",
      "replace_thing",
      "delete_thing",
      "list_things",
      expect.stringMatching(/^a_very_long_operation_identifier_.*_[0-9a-f]{6}$/),
      "get_tree",
    ]);
    expect(operations.every((o) => o.name.length <= 64)).toBe(true);
    expect(skipped).toEqual([
      { method: "patch", path: "/things/{thingId}", reason: "x-mcp excludes it" },
      { method: "post", path: "/files", reason: "multipart/form-data body without listed fields" },
    ]);
  });

  it("derives annotations from the HTTP method", async () => {
    const byName = Object.fromEntries(collectOperations(await features()).operations.map((o) => [o.name, o]));
    expect(byName.get_thing_by_id?.annotations).toEqual({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    });
    expect(byName.delete_thing?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    });
    expect(byName.replace_thing?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
    });
  });

  it("sorts inputs by location: path-level parameters, headers as snake_case fields, flat JSON bodies", async () => {
    const byName = Object.fromEntries(collectOperations(await features()).operations.map((o) => [o.name, o]));
    expect(byName.get_thing_by_id?.parameters.map((p) => [p.key, p.in, p.name, p.required])).toEqual([
      ["thingId", "path", "thingId", true],
      ["x_request_id", "header", "X-Request-Id", false],
      ["verbose", "query", "verbose", false],
    ]);
    expect(byName.replace_thing?.body).toMatchObject({ kind: "flat", required: true });
    const upload = collectOperations(await features(), { include: ["a_very_long*"] }).operations[0];
    expect(upload?.body).toMatchObject({ kind: "whole", key: "body", required: false });
    expect(upload?.title).toBe("Upload a thing");
  });

  it("filters with --include/--exclude by name, operationId, tag and wildcard", async () => {
    const doc = await features();
    const names = (include?: string[], exclude?: string[]) =>
      collectOperations(doc, {
        ...(include ? { include } : {}),
        ...(exclude ? { exclude } : {}),
      }).operations.map((o) => o.name);
    expect(names(["tag:things"])).toEqual(["list_things"]);
    expect(names(["getThingByID", "delete_*"])).toEqual(["get_thing_by_id", "delete_thing"]);
    expect(names(undefined, ["*thing*", "a_very*"])).toEqual(["get_tree"]);
  });

  it("picks the 2xx response and how it becomes an object output", async () => {
    const byName = Object.fromEntries(collectOperations(await features()).operations.map((o) => [o.name, o]));
    expect(byName.get_thing_by_id?.response.wrap).toBe("none");
    expect(byName.list_things?.response.wrap).toBe("items");
    expect(byName.delete_thing?.response.wrap).toBe("empty");
    expect(byName[Object.keys(byName).find((n) => n.startsWith("a_very"))!]?.response.wrap).toBe("result");
  });

  it("reads a vendor media type with an object or array schema as JSON, and one with a string schema as bytes", () => {
    // GitHub's contents API answers `application/vnd.github.v3.object` (a JSON object) and
    // `application/vnd.github.raw` (the file's bytes) for the same path.
    const doc = parseDocument(
      JSON.stringify({
        openapi: "3.1.0",
        info: { title: "x", version: "1" },
        components: { schemas: { Entry: { type: "object", properties: { path: { type: "string" } } } } },
        paths: {
          "/object": {
            get: {
              operationId: "getObject",
              responses: {
                "200": {
                  description: "ok",
                  content: {
                    "application/vnd.github.v3.object": { schema: { $ref: "#/components/schemas/Entry" } },
                  },
                },
              },
            },
          },
          "/list": {
            post: {
              operationId: "putList",
              requestBody: {
                content: {
                  "application/vnd.example.list": { schema: { type: "array", items: { type: "string" } } },
                },
              },
              responses: {
                "200": {
                  description: "ok",
                  content: {
                    "application/vnd.example.list": { schema: { type: "array", items: { type: "string" } } },
                  },
                },
              },
            },
          },
          "/raw": {
            get: {
              operationId: "getRaw",
              responses: {
                "200": {
                  description: "ok",
                  content: { "application/vnd.github.raw": { schema: { type: "string" } } },
                },
              },
            },
          },
        },
      }),
    );
    const byName = Object.fromEntries(collectOperations(doc).operations.map((o) => [o.name, o]));
    expect(byName.get_object?.response).toMatchObject({
      wrap: "none",
      contentType: "application/vnd.github.v3.object",
    });
    expect(byName.put_list?.response).toMatchObject({
      wrap: "items",
      contentType: "application/vnd.example.list",
    });
    expect(byName.put_list?.body).toMatchObject({
      encoding: "json",
      kind: "whole",
      contentType: "application/vnd.example.list",
    });
    expect(byName.get_raw?.response).toMatchObject({
      wrap: "bytes",
      contentType: "application/vnd.github.raw",
    });
  });

  it("maps security schemes to config keys, per operation (security: [] means none)", async () => {
    const doc = await features();
    const { operations } = collectOperations(doc);
    expect(operations.find((o) => o.name === "list_things")?.security).toEqual([]);
    expect(operations.find((o) => o.name === "get_tree")?.security).toEqual([["token"]]);
    expect(collectCredentials(doc, operations)).toEqual([
      { scheme: "token", kind: "bearer", keys: ["token"], description: "the 'token' credential" },
    ]);
    const petstore = await loadDocument(join(fixtures, "petstore.yaml"));
    expect(collectCredentials(petstore, collectOperations(petstore).operations)).toEqual([]);
  });
});

describe("objects in inputs", () => {
  const doc = { openapi: "3.0.3", info: { title: "t", version: "1" }, paths: {} } as OpenApiDocument;
  const emit = (schema: Schema) => zodExpression(schema, { doc, mode: "input", maxDepth: 8 });
  const listed = { type: "object", properties: { name: { type: "string" } } };

  it("keep keys the document does not list, and refuse them where it says additionalProperties: false", () => {
    expect(emit(listed)).toMatch(/^z\.looseObject\(/);
    expect(emit({ ...listed, additionalProperties: true })).toMatch(/^z\.looseObject\(/);
    expect(emit({ ...listed, additionalProperties: false })).toMatch(/^z\.strictObject\(/);
  });
});
