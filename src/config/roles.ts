import { configError, type Parser } from './parsers.js';

/**
 * The parts of the platform a process runs. `alphalake serve` runs them all in one
 * process (the embedded profile); in the distributed profile each may run alone and
 * scale apart: `api` (GraphQL, stateless), `sink` (Kafka → Delta), `speed` (Kafka →
 * aggregation → speed store), `ingest` (producers onto the bus).
 */
export const ROLES = ['api', 'sink', 'speed', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

/** `all`, or a comma-separated list of roles; returned in ROLES order, frozen. */
export const roleList: Parser<readonly Role[]> = (raw, env) => {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const valid = names.every(
    (name) => name === 'all' || (ROLES as readonly string[]).includes(name),
  );
  if (names.length === 0 || !valid) {
    throw configError(env, raw, `all, or a comma-separated list of ${ROLES.join(', ')}`);
  }
  return Object.freeze(ROLES.filter((role) => names.includes('all') || names.includes(role)));
};
