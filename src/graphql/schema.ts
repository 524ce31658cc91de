import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { authorize } from './authorize.js';
import { LakeResolver } from './lake-resolver.js';
import { MarketResolver } from './market-resolver.js';
import { RejectsResolver } from './rejects-resolver.js';

/** Every resolver of the API, in one list. */
export const RESOLVERS = [MarketResolver, LakeResolver, RejectsResolver] as const;

/**
 * type-graphql insists on a PubSub once a schema has subscriptions, but ours all
 * name their own `subscribe` (an iterator from the live hub, filtered by symbol), so
 * topic-based publishing has no place here and is refused loudly if ever used.
 */
const TOPICS_UNUSED: PubSub = {
  publish() {
    throw new Error('subscriptions read the live hub; topic publishing is not used');
  },
  subscribe() {
    throw new Error('subscriptions read the live hub; topic subscriptions are not used');
  },
};

export function buildApiSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    validate: false,
    pubSub: TOPICS_UNUSED,
    authChecker: authorize,
  });
}
