import { readFileSync } from 'node:fs';
import type { GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiSchemaSdl, buildApiSchema } from '../../../src/graphql/index.js';

// The schema is walked by shape, not with graphql's `is…Type` guards: vitest loads its own
// copy of graphql, whose guards refuse the server's copy's types.
const BUILT_IN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

interface Described {
  readonly name: string;
  readonly description?: string | null;
}

interface Walkable extends Described {
  getFields?: () => Record<string, Described & { args?: readonly Described[] }>;
  getValues?: () => readonly Described[];
}

let schema: GraphQLSchema;

beforeAll(async () => {
  schema = await buildApiSchema();
});

describe('schema.graphql', () => {
  it('is what the code builds (run `npm run schema` after changing the API)', async () => {
    const checkedIn = readFileSync(new URL('../../../../schema.graphql', import.meta.url), 'utf8');
    const built = await apiSchemaSdl();
    expect(
      checkedIn === built,
      'schema.graphql is out of date with the code: run `npm run schema` and commit the file',
    ).toBe(true);
  });

  it('describes every type, field, argument and enum value', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap()) as Walkable[]) {
      if (type.name.startsWith('__') || BUILT_IN_SCALARS.has(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (type.getFields) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args ?? []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (type.getValues) {
        for (const value of type.getValues()) {
          if (!value.description) missing.push(`${type.name}.${value.name}`);
        }
      }
    }
    expect(missing, 'add a description to each of these').toEqual([]);
  });
});
