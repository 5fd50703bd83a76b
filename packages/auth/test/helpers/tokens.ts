import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

export const ISSUER = "https://issuer.test";
export const AUDIENCE = "https://tools.test/mcp";

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(kid: string, alg = "ES256"): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, publicJwk };
}

export interface SignOptions {
  kid?: string | null;
  iss?: string;
  aud?: string | string[];
  sub?: string | null;
  /** seconds from now; null for no exp */
  expIn?: number | null;
  /** seconds from now */
  nbfIn?: number;
}

const now = (): number => Math.floor(Date.now() / 1000);

/** A JWT signed by `key`; `claims` are added to the defaults (iss, aud, sub, iat, exp in 5 min). */
export async function sign(
  key: TestKey,
  claims: JWTPayload = {},
  options: SignOptions = {},
): Promise<string> {
  const header: { alg: string; kid?: string; typ: string } = { alg: key.alg, typ: "at+jwt" };
  const kid = options.kid === undefined ? key.kid : options.kid;
  if (kid !== null) header.kid = kid;
  const jwt = new SignJWT(claims)
    .setProtectedHeader(header)
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt();
  const sub = options.sub === undefined ? "user-1" : options.sub;
  if (sub !== null) jwt.setSubject(sub);
  const expIn = options.expIn === undefined ? 300 : options.expIn;
  if (expIn !== null) jwt.setExpirationTime(now() + expIn);
  if (options.nbfIn !== undefined) jwt.setNotBefore(now() + options.nbfIn);
  return jwt.sign(key.privateKey);
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
