export type {
  Principal,
  AuthOutcome,
  AuthSuccess,
  AuthFailure,
  Authenticator,
  RequestHeaders,
} from "./types.js";
export {
  createApiKeyAuthenticator,
  hashApiKey,
  generateApiKey,
  parseApiKeys,
  DEFAULT_API_KEY_PREFIX,
} from "./api-keys.js";
export type { ApiKeyEntry, ApiKeyAuthenticatorOptions, ParseApiKeysOptions } from "./api-keys.js";
export { createJwtAuthenticator, ASYMMETRIC_ALGORITHMS, JWKS_MAX_STALE_MS } from "./jwt.js";
export type { JwtAuthenticatorOptions } from "./jwt.js";
export { combineAuthenticators, AUTHENTICATION_REQUIRED } from "./combine.js";
export type { CombinedAuthenticator } from "./combine.js";
export { missingScopes, insufficientScope, scopeGrants } from "./scopes.js";
export { wwwAuthenticate } from "./challenge.js";
export type { ChallengeOptions } from "./challenge.js";
export { protectedResourceMetadata, protectedResourceMetadataUrl } from "./metadata.js";
export type { ProtectedResourceMetadata, ProtectedResourceMetadataOptions } from "./metadata.js";
export { createRateLimiter, DEFAULT_RATE_LIMIT_KEY_PREFIX } from "./rate-limit/rate-limiter.js";
export type { RateLimiter, RateLimiterOptions, RateLimitResult } from "./rate-limit/types.js";
