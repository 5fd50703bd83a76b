import type { ClientOptions } from "@modelcontextprotocol/client";

/** Which protocol era a test client speaks: 2025 (initialize), 2026-07-28, or whatever the server offers. */
export type Era = "legacy" | "modern" | "auto";

export const MODERN_PROTOCOL_VERSION = "2026-07-28";

export function versionNegotiation(era: Era): Pick<ClientOptions, "versionNegotiation"> {
  if (era === "legacy") return {};
  return {
    versionNegotiation: { mode: era === "auto" ? "auto" : { pin: MODERN_PROTOCOL_VERSION } },
  };
}
