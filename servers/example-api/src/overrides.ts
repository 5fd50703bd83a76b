import type { Overrides } from "@toolshed/openapi-runtime";

/**
 * Hand-written improvements to the generated tools, by tool name: texts written for a model (when
 * to use a tool, what comes back, the limits). The generator never touches this file.
 */
export const overrides: Overrides = {
  tools: {
    list_resources: {
      title: "List resources",
      description:
        "Lists resources in the Example API, newest first, one page at a time: up to `limit` (1-100, default 20) after skipping `offset`. Returns the items (id, name, description, category, created_at, updated_at) and `total`; page on with offset += limit while offset < total. To find resources by text, use search_resources instead.",
    },
    get_resource: {
      title: "Get a resource",
      description:
        "Returns one resource by id (from list_resources, search_resources or create_resource). An unknown id is a not_found error: list or search to find the right one.",
    },
    create_resource: {
      title: "Create a resource",
      description:
        "Creates a resource and returns it with its new id and timestamps. `name` is required (3-100 characters); `description` (up to 1000 characters, default empty) and `category` (1-50 characters, default 'general') are optional. Not idempotent: calling it twice creates two resources.",
    },
    update_resource: {
      title: "Replace a resource",
      description:
        "Replaces a resource's name, description and category; fields left out are reset to their defaults (description '', category 'general'), so pass the current values (get_resource) to keep them. Returns the updated resource with a new updated_at. Unknown ids are a not_found error.",
    },
    delete_resource: {
      title: "Delete a resource",
      description:
        "Deletes a resource for good; it cannot be undone. Returns status 204 on success; an unknown (or already deleted) id is a not_found error.",
    },
    search_resources: {
      title: "Search resources",
      description:
        "Finds resources whose name or description contains `query` (at least 3 characters, case-insensitive), optionally only in one `category`. Sort by name, created_at or updated_at (`sort_by`), ascending or descending (`order`); returns up to `limit` (1-100, default 20) items and the `total` number of matches.",
      params: {
        sort_by: "Sort field: one of name, created_at, updated_at (default name).",
      },
    },
  },
};
