import {
  createRemoteJWKSet,
  errors,
  jwtVerify,
  SignJWT,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { AlphalakeError } from '../domain/index.js';
import type { Principal } from './principal.js';
import { API_ROLES, isApiRole, roleAllows, type ApiRole } from './roles.js';

/** How tokens are checked: a shared secret (HS256), a JWKS URL (RS256, ES256), or both. */
export interface TokenSettings {
  /** HS256 secret (AUTH_JWT_SECRET), at least 32 bytes (RFC 7518 §3.2). */
  readonly secret?: string;
  /** Where the issuer publishes its public keys (AUTH_JWKS_URL, RFC 7517 §5). */
  readonly jwksUrl?: string;
  /** The `iss` every token must carry (AUTH_JWT_ISSUER). */
  readonly issuer: string;
  /** An `aud` every token must carry (AUTH_JWT_AUDIENCE). */
  readonly audience: string;
  /** The claim that names the role (AUTH_ROLE_CLAIM): a role, or an array of them. */
  readonly roleClaim: string;
}

/**
 * Verifies JWTs with jose (RFC 7519): the signature, `exp` (required: a token that never
 * expires is refused), `nbf`, `iss` and `aud`; `sub` names the user and the role claim
 * their role. Every failure is UNAUTHENTICATED and says what was wrong with the token,
 * except that the issuer's key set not answering is UNAVAILABLE (the token may be fine).
 */
export class TokenVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;

  constructor(private readonly settings: TokenSettings) {
    this.secret = settings.secret === undefined ? undefined : encode(settings.secret);
    this.jwks =
      settings.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(settings.jwksUrl));
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      payload = await this.verified(token);
    } catch (error) {
      throw tokenError(error);
    }
    const user = payload.sub;
    if (typeof user !== 'string' || user === '') {
      throw new AlphalakeError(
        'UNAUTHENTICATED',
        'the token has no subject (`sub`): it names no user',
      );
    }
    const role = highestRole(payload[this.settings.roleClaim]);
    if (role === undefined) {
      throw new AlphalakeError(
        'UNAUTHENTICATED',
        `the token names no role: claim \`${this.settings.roleClaim}\` must be one of ${API_ROLES.join(', ')} (or an array of them)`,
      );
    }
    // `exp` is a required claim (NumericDate: seconds since the epoch), checked by jose.
    return { user, role, via: 'jwt', expiresAt: (payload.exp as number) * 1_000_000 };
  }

  private async verified(token: string): Promise<JWTPayload> {
    const options = {
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      requiredClaims: ['exp', 'sub'],
    };
    // The header's `alg` picks the key, and each key takes only its own algorithms, so a
    // token cannot have an RSA public key used as an HMAC secret (RFC 8725 §2.1, §3.1).
    const alg = algorithmOf(token);
    if (alg === undefined) {
      throw new AlphalakeError('UNAUTHENTICATED', 'the token is not a valid JWT', {
        reason: 'malformed',
      });
    }
    const hmac = alg.startsWith('HS');
    if (hmac && this.secret) {
      return (await jwtVerify(token, this.secret, { ...options, algorithms: ['HS256'] })).payload;
    }
    if (!hmac && this.jwks) {
      return (await jwtVerify(token, this.jwks, { ...options, algorithms: ['RS256', 'ES256'] }))
        .payload;
    }
    throw new AlphalakeError(
      'UNAUTHENTICATED',
      hmac
        ? 'the token is signed with a shared secret (HS256), but this server only takes tokens from its JWKS (AUTH_JWKS_URL)'
        : 'the token is signed with a public-key algorithm, but this server has no JWKS (AUTH_JWKS_URL) and takes HS256 only',
    );
  }
}

export interface TokenRequest {
  readonly user: string;
  readonly role: ApiRole;
  readonly ttlSeconds: number;
  /** Epoch µs the token is issued at. */
  readonly now: number;
}

/** Mints an HS256 token (`alphalake auth token`) that a server with the same settings accepts. */
export async function mintToken(settings: TokenSettings, request: TokenRequest): Promise<string> {
  if (settings.secret === undefined) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      'minting a token needs AUTH_JWT_SECRET (the HS256 secret the server shares); with AUTH_JWKS_URL alone, tokens come from your identity provider',
      { env: 'AUTH_JWT_SECRET' },
    );
  }
  const issuedAt = Math.floor(request.now / 1_000_000);
  return new SignJWT({ [settings.roleClaim]: request.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.user)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + request.ttlSeconds)
    .sign(encode(settings.secret));
}

function encode(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** The `alg` of the token's protected header (RFC 7515 §4.1.1), or undefined if it has none. */
function algorithmOf(token: string): string | undefined {
  const header = token.split('.', 1)[0] ?? '';
  try {
    const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as unknown;
    const alg = (parsed as { alg?: unknown } | null)?.alg;
    return typeof alg === 'string' ? alg : undefined;
  } catch {
    return undefined;
  }
}

function highestRole(claim: unknown): ApiRole | undefined {
  const candidates = Array.isArray(claim) ? claim : [claim];
  let best: ApiRole | undefined;
  for (const candidate of candidates) {
    if (isApiRole(candidate) && (best === undefined || roleAllows(candidate, best)))
      best = candidate;
  }
  return best;
}

function tokenError(error: unknown): AlphalakeError {
  if (error instanceof AlphalakeError) return error;
  if (error instanceof errors.JWTExpired) {
    return new AlphalakeError('UNAUTHENTICATED', 'the token has expired (`exp`)', {
      reason: 'expired',
    });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new AlphalakeError('UNAUTHENTICATED', `the token was refused: ${error.message}`, {
      reason: 'claim',
    });
  }
  if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
    return new AlphalakeError(
      'UNAVAILABLE',
      'the identity provider’s key set (AUTH_JWKS_URL) did not answer; try again',
      {},
      { cause: error },
    );
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey
  ) {
    return new AlphalakeError('UNAUTHENTICATED', 'the token’s signature does not verify', {
      reason: 'signature',
    });
  }
  return new AlphalakeError('UNAUTHENTICATED', 'the token is not a valid JWT', {
    reason: 'malformed',
  });
}
