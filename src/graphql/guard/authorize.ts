import type { AuthChecker } from 'type-graphql';
import { API_ROLES, roleAllows, type ApiRole } from '../../auth/index.js';
import { AlphalakeError } from '../../domain/index.js';
import type { ApiContext } from '../transport/context.js';

export { API_ROLES, type ApiRole };

/**
 * type-graphql's check behind every `@Authorized(role)` field: the request's principal
 * must hold that role or one above it (viewer < analyst < admin). It runs before the
 * field's resolver, and looks at nothing but the principal and the field's declared
 * role, so a refusal says nothing about whether a record the arguments name exists.
 * No principal → UNAUTHENTICATED; a role too low → FORBIDDEN. Several roles on one field
 * mean the lowest of them suffices.
 */
export const authorize: AuthChecker<ApiContext, ApiRole> = ({ context }, roles) => {
  const principal = context.principal;
  if (principal === undefined) {
    throw new AlphalakeError(
      'UNAUTHENTICATED',
      'sign in: send `Authorization: Bearer <token>` or an API key',
    );
  }
  const needed = lowest(roles);
  if (!roleAllows(principal.role, needed)) {
    throw new AlphalakeError(
      'FORBIDDEN',
      `this needs the ${needed} role; you are ${principal.role}`,
      {
        role: needed,
      },
    );
  }
  return true;
};

function lowest(roles: readonly ApiRole[]): ApiRole {
  const declared = API_ROLES.filter((role) => roles.includes(role));
  return declared[0] ?? 'viewer';
}
