import { getMetadataStorage } from 'type-graphql';
import { describe, expect, it } from 'vitest';
import { buildApiSchema } from '../../../src/graphql/index.js';

/**
 * Every root field says which role it needs (`@Authorized`): a field added without one
 * would be open to every signed-in role, so the schema is checked field by field.
 */
describe('authorization of the schema', () => {
  it('marks every query, mutation and subscription with @Authorized and a role', async () => {
    const schema = await buildApiSchema();
    const storage = getMetadataStorage();
    const authorized = new Map(
      storage.authorizedFields.map((field) => [
        `${field.target.name}.${field.fieldName}`,
        field.roles,
      ]),
    );
    const roots = [...storage.queries, ...storage.mutations, ...storage.subscriptions];
    const unmarked = roots
      .filter(
        (root) => (authorized.get(`${root.target.name}.${root.methodName}`) ?? []).length !== 1,
      )
      .map((root) => `${root.target.name}.${root.methodName}`);
    expect(unmarked).toEqual([]);
    const fields = [
      ...Object.keys(schema.getQueryType()?.getFields() ?? {}),
      ...Object.keys(schema.getMutationType()?.getFields() ?? {}),
      ...Object.keys(schema.getSubscriptionType()?.getFields() ?? {}),
    ];
    expect(roots.length).toBe(fields.length);
  });
});
