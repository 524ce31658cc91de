import 'reflect-metadata';
import { printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { authorize } from './guard/authorize.js';
import { JobResolver } from './resolvers/job-resolver.js';
import { LakeResolver } from './resolvers/lake-resolver.js';
import { MarketResolver } from './resolvers/market-resolver.js';
import { LatestQuotesResolver, SymbolBarsResolver } from './resolvers/quote-resolver.js';
import { MasterDataResolver } from './resolvers/mdm-resolver.js';
import { RejectsResolver } from './resolvers/rejects-resolver.js';
import { UserResolver } from './resolvers/user-resolver.js';
import { VendorBarsResolver } from './resolvers/vendor-bars-resolver.js';

/** Every resolver of the API, in one list. */
export const RESOLVERS = [
  MarketResolver,
  LatestQuotesResolver,
  SymbolBarsResolver,
  LakeResolver,
  MasterDataResolver,
  UserResolver,
  JobResolver,
  RejectsResolver,
  VendorBarsResolver,
] as const;

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

/** The root operation types' descriptions: type-graphql sets none of its own. */
const ROOT_DESCRIPTIONS = {
  Query: 'Reads: market data through the lambda view, and the lake as stored.',
  Mutation: 'Writes and jobs, each allowed by role.',
  Subscription: 'Live updates over graphql-ws on the same URL.',
} as const;

export async function buildApiSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    validate: false,
    pubSub: TOPICS_UNUSED,
    authChecker: authorize,
  });
  for (const root of [
    schema.getQueryType(),
    schema.getMutationType(),
    schema.getSubscriptionType(),
  ]) {
    if (root && !root.description)
      root.description = ROOT_DESCRIPTIONS[root.name as keyof typeof ROOT_DESCRIPTIONS];
  }
  return schema;
}

/**
 * The schema in SDL (GraphQL spec, "Type System"), as `schema.graphql` holds it: what
 * `npm run schema` writes and a test compares with the code.
 */
export async function apiSchemaSdl(): Promise<string> {
  return `${printSchema(await buildApiSchema())}\n`;
}
