import type { ApiRole } from './roles.js';

/** Who sent a request, once their credentials are verified. */
export interface Principal {
  /** The user's name: a JWT's `sub`, or the owner of an API key. */
  readonly user: string;
  readonly role: ApiRole;
  /** How they proved it; `off` when AUTH_MODE=off let everyone in. */
  readonly via: 'jwt' | 'api-key' | 'off';
  /** The API key's public id, when `via` is `api-key`. */
  readonly keyId?: string;
  /**
   * When the credential stops being valid, epoch µs: a JWT's `exp` (RFC 7519 §4.1.4). A
   * live subscription is closed then (src/graphql/transport/server.ts).
   */
  readonly expiresAt?: number;
}

/**
 * With AUTH_MODE=off every request acts as this admin: nothing is checked, and the audit
 * log says so rather than naming someone who never signed in.
 */
export const ANONYMOUS_ADMIN: Principal = Object.freeze({
  user: 'anonymous',
  role: 'admin',
  via: 'off',
});

/** The principal as the audit log records it: `alice`, `alice (key 0f3a…)`, `anonymous (auth off)`. */
export function actorOf(principal: Principal | undefined): string {
  if (principal === undefined) return 'unauthenticated';
  switch (principal.via) {
    case 'jwt':
      return principal.user;
    case 'api-key':
      return `${principal.user} (key ${principal.keyId ?? '?'})`;
    case 'off':
      return `${principal.user} (auth off)`;
  }
}
