import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `alk_<id>_<secret>`: `id` (16 hex digits) is public, names the key
 * in listings, the audit log and `revoke-key`, and finds its record in one lookup;
 * `secret` is 32 random bytes (base64url). Only a SHA-256 digest of the whole key is
 * stored. A slow password hash (scrypt) would add nothing but latency to every request:
 * it protects low-entropy, human-chosen secrets (NIST SP 800-63B §5.1.1.2), and a
 * 256-bit random secret cannot be guessed from its digest.
 */
export const API_KEY_PREFIX = 'alk_';
const KEY_PATTERN = /^alk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface MintedApiKey {
  readonly id: string;
  /** The key itself: shown once, never stored. */
  readonly key: string;
  /** Hex SHA-256 of `key`: what the store keeps. */
  readonly hash: string;
}

export function mintApiKey(): MintedApiKey {
  const id = randomBytes(8).toString('hex');
  const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: digestOf(key) };
}

/** The key's public id, or undefined when the text is not shaped like one of our keys. */
export function apiKeyId(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

/** Whether `key` is the one whose digest is `hash`, compared in constant time. */
export function apiKeyMatches(key: string, hash: string): boolean {
  const expected = Buffer.from(hash, 'hex');
  const actual = Buffer.from(digestOf(key), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function digestOf(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
