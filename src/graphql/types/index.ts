/** GraphQL object, input and scalar types (type-graphql classes). */
export * from './args.js';
export * from './market-types.js';
export * from './mdm-types.js';
export * from './scalars.js';
