import type { Authenticator, Credentials, Principal } from '../../auth/index.js';
import { isAlphalakeError } from '../../domain/index.js';

/**
 * graphql-ws's close code for a connection whose credentials are not (or no longer)
 * valid (graphql-ws PROTOCOL.md, `4401: Unauthorized`).
 */
export const UNAUTHENTICATED_CLOSE_CODE = 4401;

/** A WebSocket close reason is at most 123 bytes (RFC 6455 §5.5: a 125-byte control payload less the code). */
const MAX_CLOSE_REASON_BYTES = 123;
/** setTimeout's longest delay (a signed 32-bit count of ms); a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CredentialWatchOptions {
  /** Verifies credentials again (the server's authenticator). */
  readonly auth: Authenticator;
  /** How often every watched connection's credentials are verified again; 0: never. */
  readonly recheckMs: number;
  /** Now, epoch ms (what jose checks `exp` against). @default Date.now */
  readonly now?: () => number;
}

interface Watched {
  readonly credentials: Credentials;
  readonly principal: Principal;
  readonly close: (code: number, reason: string) => void;
  timer?: NodeJS.Timeout;
}

/**
 * Keeps long-lived WebSocket connections honest about who they are. Credentials are
 * verified when each operation starts (the subscribe message), but a subscription may
 * then run for days: a JWT's `exp` passes, an API key is revoked, a user removed. So
 *
 * - a connection whose principal has an expiry (a JWT's `exp`) is closed at that instant
 *   with 4401 and reason `UNAUTHENTICATED: token expired`;
 * - every `recheckMs` each watched connection's credentials are verified again (an API
 *   key against the user store); one that no longer verifies is closed with 4401 and a
 *   reason that says why (`UNAUTHENTICATED: API key revoked`). A check that cannot be
 *   made (the store or the identity provider does not answer: UNAVAILABLE) closes
 *   nothing: the next check tries again.
 */
export class CredentialWatch {
  readonly #watched = new Map<object, Watched>();
  readonly #auth: Authenticator;
  readonly #now: () => number;
  readonly #recheck: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(options: CredentialWatchOptions) {
    this.#auth = options.auth;
    this.#now = options.now ?? Date.now;
    this.#recheck =
      options.auth.mode === 'jwt' && options.recheckMs > 0
        ? setInterval(() => void this.recheck(), options.recheckMs).unref()
        : undefined;
  }

  /**
   * Watches a connection (the graphql-ws context of its socket) once its credentials were
   * verified; a connection already watched keeps its first watch (its credentials are
   * the connection's, the same for each of its operations).
   */
  watch(
    connection: object,
    credentials: Credentials,
    principal: Principal,
    close: (code: number, reason: string) => void,
  ): void {
    if (this.#auth.mode === 'off' || this.#watched.has(connection)) return;
    const watched: Watched = { credentials, principal, close };
    this.#watched.set(connection, watched);
    if (principal.expiresAt !== undefined) this.#closeAt(connection, watched, principal.expiresAt);
  }

  /** The connection closed: nothing more to watch. */
  forget(connection: object): void {
    const watched = this.#watched.get(connection);
    if (watched?.timer) clearTimeout(watched.timer);
    this.#watched.delete(connection);
  }

  /** Verifies every watched connection's credentials again, closing those that fail. */
  async recheck(): Promise<void> {
    if (this.#checking) return; // the previous round is still at it
    this.#checking = true;
    try {
      for (const [connection, watched] of [...this.#watched]) {
        try {
          await this.#auth.authenticate(watched.credentials);
        } catch (error) {
          if (!isAlphalakeError(error, 'UNAUTHENTICATED')) continue;
          this.#close(connection, this.#why(watched.principal, error.message));
        }
      }
    } finally {
      this.#checking = false;
    }
  }

  stop(): void {
    if (this.#recheck) clearInterval(this.#recheck);
    for (const connection of [...this.#watched.keys()]) this.forget(connection);
  }

  /** `expiresAt` in epoch µs, as principals carry it. */
  #closeAt(connection: object, watched: Watched, expiresAt: number): void {
    const delay = Math.max(0, Math.ceil(expiresAt / 1_000 - this.#now()));
    watched.timer = setTimeout(
      () => {
        if (!this.#watched.has(connection)) return;
        if (this.#now() * 1_000 < expiresAt) this.#closeAt(connection, watched, expiresAt);
        else this.#close(connection, 'token expired');
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    watched.timer.unref();
  }

  /**
   * Why a re-check failed, in the words the close reason uses: a token past its `exp` is
   * `token expired` whichever of the timer and the re-check notices it first.
   */
  #why(principal: Principal, message: string): string {
    const expiresAt = principal.expiresAt;
    if (expiresAt !== undefined && this.#now() * 1_000 >= expiresAt) return 'token expired';
    return principal.via === 'api-key' ? 'API key revoked' : message;
  }

  #close(connection: object, why: string): void {
    const watched = this.#watched.get(connection);
    if (!watched) return;
    this.forget(connection);
    watched.close(UNAUTHENTICATED_CLOSE_CODE, closeReason(`UNAUTHENTICATED: ${why}`));
  }
}

function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}
