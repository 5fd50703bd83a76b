import { describe, expect, it } from "vitest";
import { bound, MAX_TOOL_NAME, snakeCase, toolName, uniqueNames } from "../src/names.js";

describe("tool names", () => {
  it.each([
    ["listPets", "list_pets"],
    ["getThingByID", "get_thing_by_id"],
    ["repos/list-for-org", "repos_list_for_org"],
    ["Get Pet By ID", "get_pet_by_id"],
    ["HTTPServerStatus", "http_server_status"],
    ["__weird__name__", "weird_name"],
  ])("snake_cases %s as %s", (input, expected) => {
    expect(snakeCase(input)).toBe(expected);
  });

  it("falls back to the method and path without an operationId, and never starts with a digit", () => {
    expect(toolName(undefined, "get", "/pets/{petId}/photos")).toBe("get_pets_by_pet_id_photos");
    expect(toolName("2fa/enable", "post", "/x")).toBe("op_2fa_enable");
  });

  it("bounds long names to 64 characters and keeps cut names distinct", () => {
    const a = toolName("a".repeat(40) + "_first_variant_of_a_very_long_operation_name", "get", "/");
    const b = toolName("a".repeat(40) + "_second_variant_of_a_very_long_operation_name", "get", "/");
    expect(a.length).toBeLessThanOrEqual(MAX_TOOL_NAME);
    expect(b.length).toBeLessThanOrEqual(MAX_TOOL_NAME);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9][a-z0-9_]{0,63}$/);
    expect(bound("short")).toBe("short");
  });

  it("makes repeated names unique", () => {
    expect(uniqueNames(["x", "y", "x", "x"])).toEqual(["x", "y", "x_2", "x_3"]);
    const long = "n".repeat(64);
    const [first, second] = uniqueNames([long, long]);
    expect(second).toHaveLength(64);
    expect(second).not.toBe(first);
  });
});
