import type { Principal } from "./define.js";

/** The principal the HTTP auth layer put in the SDK's AuthInfo (see http/auth.ts authInfoFor). */
export function principalFromAuthInfo(auth: {
  clientId: string;
  scopes: string[];
  extra?: Record<string, unknown>;
}): Principal {
  const { principalKey: _key, principalId, ...claims } = auth.extra ?? {};
  return { id: typeof principalId === "string" ? principalId : auth.clientId, scopes: auth.scopes, claims };
}
