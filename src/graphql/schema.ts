import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { MarketResolver } from './market-resolver.js';

/** Every resolver of the API, in one list. */
export const RESOLVERS = [MarketResolver] as const;

export function buildApiSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: RESOLVERS, validate: false, emitSchemaFile: false });
}
