import { AlphalakeError } from '../domain/index.js';

/**
 * The roles of the API, each allowed what the one before it is and more: a viewer reads;
 * an analyst also backfills and retrains; an admin also edits master data, vacuums and
 * manages users (issue 11).
 */
export const API_ROLES = ['viewer', 'analyst', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** True when `held` is `needed` or above it. */
export function roleAllows(held: ApiRole, needed: ApiRole): boolean {
  return API_ROLES.indexOf(held) >= API_ROLES.indexOf(needed);
}

export function isApiRole(value: unknown): value is ApiRole {
  return typeof value === 'string' && (API_ROLES as readonly string[]).includes(value);
}

/** A role from user input (a flag, a GraphQL argument): BAD_USER_INPUT otherwise. */
export function parseRole(raw: string): ApiRole {
  if (isApiRole(raw)) return raw;
  throw new AlphalakeError(
    'BAD_USER_INPUT',
    `unknown role ${JSON.stringify(raw)}: expected one of ${API_ROLES.join(', ')}`,
    { field: 'role' },
  );
}
