/** Public surface of src/auth: users, roles, API keys and JWTs (docs/auth.md). */
export {
  Accounts,
  NO_AUDIT,
  type AccountAudit,
  type AccountChange,
  type CreatedApiKey,
} from './accounts.js';
export { API_KEY_PREFIX, apiKeyId } from './api-keys.js';
export {
  credentialsFromConnectionParams,
  credentialsFromHeaders,
  jwtAuthenticator,
  OPEN_DOOR,
  requireVerifiableTokens,
  type AuthSettings,
  type Authenticator,
  type Credentials,
} from './authenticator.js';
export { FileUserStore } from './file-user-store.js';
export { MongoUserStore } from './mongo-user-store.js';
export { actorOf, ANONYMOUS_ADMIN, type Principal } from './principal.js';
export { API_ROLES, isApiRole, parseRole, roleAllows, type ApiRole } from './roles.js';
export { mintToken, TokenVerifier, type TokenRequest, type TokenSettings } from './tokens.js';
export type { ApiKeyRecord, User, UserStore } from './user-store.js';
