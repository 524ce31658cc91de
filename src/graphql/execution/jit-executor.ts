import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  execute,
  GraphQLError,
  printSchema,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import type { ApiContext } from '../transport/context.js';

/** Apollo's gateway interface, as its constructor options type it. */
type Gateway = ApolloServerOptionsWithGateway<ApiContext>['gateway'];
type GatewayExecutor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>;

/**
 * Executes queries with graphql-jit instead of graphql-js' interpreter: each document
 * (by Apollo's query hash and operation name) is compiled once into JavaScript that
 * walks its selection set directly, which for a list of thousands of bars is several
 * times faster (docs/performance.md). Compiling costs more than one interpreted run, so a
 * document is compiled when it is seen the second time: a one-off query (literals typed
 * in GraphiQL) runs on graphql-js, a repeated one (an app's query with variables, a
 * dashboard's poll) on compiled code. Apollo Server still parses, validates (with the
 * cost limits), runs the plugins and formats errors; it takes a custom executor only
 * through its gateway interface, so the schema is handed over that way. Subscriptions
 * (graphql-ws) still run on graphql-js.
 */
export function jitGateway(schema: GraphQLSchema, maxCompiledQueries = 1_000): Gateway {
  const compiled = new LRUCache<string, CompiledQuery>({ max: maxCompiledQueries });
  const seenOnce = new LRUCache<string, true>({ max: maxCompiledQueries });
  const sdl = printSchema(schema);
  const executor: GatewayExecutor = async (request) => {
    const key = `${request.queryHash}\u0000${request.operationName ?? ''}`;
    let query = compiled.get(key);
    if (query === undefined && !seenOnce.has(key)) {
      seenOnce.set(key, true);
      return execute({
        schema,
        document: request.document,
        contextValue: request.context,
        variableValues: request.request.variables ?? {},
        operationName: request.operationName,
      });
    }
    if (query === undefined) {
      const result = compileQuery(schema, request.document, request.operationName ?? undefined, {
        // Errors are reported by path and message; their stacks are never shown.
        disablingCapturingStackErrors: true,
      });
      if (!isCompiledQuery(result)) return withGraphQLErrors(result);
      query = result;
      compiled.set(key, query);
    }
    return withGraphQLErrors(
      await query.query(undefined, request.context as ApiContext, request.request.variables ?? {}),
    );
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: sdl });
      return () => {};
    },
    async load() {
      return { executor };
    },
    async stop() {},
  };
}

/**
 * graphql-jit reports errors as objects of its own that leave `extensions` undefined
 * where graphql-js (and Apollo, which reads `extensions.code`) expect an object: each
 * becomes a graphql-js GraphQLError with the same message, path, locations and cause.
 */
function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors || result.errors.length === 0) return result;
  const errors = result.errors.map((jitError) => {
    const error = new GraphQLError(jitError.message, {
      path: jitError.path,
      originalError: jitError.originalError,
      extensions: jitError.extensions ?? {},
    });
    if (jitError.locations) {
      Object.defineProperty(error, 'locations', {
        value: jitError.locations,
        enumerable: true,
      });
    }
    return error;
  });
  return { ...result, errors };
}
