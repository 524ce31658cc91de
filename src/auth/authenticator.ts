import { AlphalakeError } from '../domain/index.js';
import type { Accounts } from './accounts.js';
import { ANONYMOUS_ADMIN, type Principal } from './principal.js';
import { TokenVerifier, type TokenSettings } from './tokens.js';

/** What a request presented: a bearer token, an API key, or nothing. */
export type Credentials =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'api-key'; readonly key: string }
  | undefined;

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Credentials from HTTP headers: `Authorization: Bearer <jwt>` (RFC 6750 §2.1),
 * `Authorization: ApiKey <key>`, or `x-api-key: <key>`. An Authorization header with
 * another scheme is refused rather than ignored.
 */
export function credentialsFromHeaders(headers: Headers): Credentials {
  const authorization = single(headers.authorization);
  if (authorization !== undefined && authorization.trim() !== '') {
    return fromAuthorization(authorization);
  }
  const key = single(headers['x-api-key']);
  return key !== undefined && key.trim() !== '' ? { kind: 'api-key', key: key.trim() } : undefined;
}

/**
 * Credentials from graphql-ws `connectionParams` (a browser cannot set headers on a
 * WebSocket): `{ authorization: 'Bearer <jwt>' }` or `{ authorization: 'ApiKey <key>' }`
 * (any case of the name), or `{ 'x-api-key': '<key>' }`. Header names are matched without
 * regard to case, as HTTP's are.
 */
export function credentialsFromConnectionParams(
  params: Readonly<Record<string, unknown>> | undefined,
): Credentials {
  if (params === undefined || params === null) return undefined;
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string') lower[name.toLowerCase()] = value;
  }
  return credentialsFromHeaders(lower);
}

function fromAuthorization(value: string): Credentials {
  const match = /^(\S+)\s+(\S+)\s*$/.exec(value.trim());
  const scheme = match?.[1]?.toLowerCase();
  const secret = match?.[2];
  if (scheme === 'bearer' && secret) return { kind: 'bearer', token: secret };
  if (scheme === 'apikey' && secret) return { kind: 'api-key', key: secret };
  throw new AlphalakeError(
    'UNAUTHENTICATED',
    'the Authorization header must be `Bearer <token>` or `ApiKey <key>`',
  );
}

function single(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

/**
 * Turns credentials into a principal, or throws UNAUTHENTICATED (UNAVAILABLE when the
 * identity provider's key set does not answer). With AUTH_MODE=off every request is
 * the anonymous admin, whatever it presents.
 */
export interface Authenticator {
  readonly mode: 'jwt' | 'off';
  authenticate(credentials: Credentials): Promise<Principal>;
}

/** AUTH_MODE=off: nothing is checked. */
export const OPEN_DOOR: Authenticator = Object.freeze({
  mode: 'off' as const,
  authenticate: () => Promise.resolve(ANONYMOUS_ADMIN),
});

/** AUTH_MODE=jwt: bearer tokens verified by jose, API keys against the user store. */
export function jwtAuthenticator(tokens: TokenSettings, accounts: Accounts): Authenticator {
  const verifier = new TokenVerifier(tokens);
  return {
    mode: 'jwt',
    async authenticate(credentials) {
      if (credentials === undefined) {
        throw new AlphalakeError(
          'UNAUTHENTICATED',
          'sign in: send `Authorization: Bearer <token>` or an API key (`Authorization: ApiKey <key>` or `x-api-key`)',
        );
      }
      return credentials.kind === 'bearer'
        ? verifier.verify(credentials.token)
        : accounts.verifyKey(credentials.key);
    },
  };
}

/** The settings auth needs from src/config, as plain values. */
export interface AuthSettings extends TokenSettings {
  readonly mode: 'jwt' | 'off';
}

/**
 * Says what to set when auth is on but nothing can verify a token: the server refuses
 * to start rather than run with every request refused (or, worse, open).
 */
export function requireVerifiableTokens(settings: AuthSettings): void {
  if (settings.mode === 'jwt' && settings.secret === undefined && settings.jwksUrl === undefined) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      'authentication is on (AUTH_MODE=jwt, the default) but nothing can verify a token: set AUTH_JWT_SECRET (32+ characters, e.g. `openssl rand -base64 48`) for HS256 tokens, or AUTH_JWKS_URL for RS256/ES256 tokens from an identity provider; or set AUTH_MODE=off to run with no authentication (local use only)',
      { env: 'AUTH_MODE,AUTH_JWT_SECRET,AUTH_JWKS_URL' },
    );
  }
}
