import {
  createSourceEventStream,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';

/**
 * Subscription execution shared between subscribers (issue 12: 1,000 live subscribers).
 *
 * The GraphQL spec's MapSourceToResponseEvent (GraphQL spec, "Subscription" → "Response
 * Stream") runs ExecuteSubscriptionEvent — the whole selection set — for every event of every
 * subscriber. The live hub hands the same update object to every subscriber of a symbol, and
 * subscribers of one live feed mostly send the same document: executing it a thousand times
 * per update was most of the server's cost per event. Here an event's response is computed
 * once per group — subscribers that share the document, the operation, the variables and
 * whatever else `groupOf` says the response depends on (the caller passes the role: the
 * authorization of each field depends on it) — and the same result object is handed to every
 * member, so graphql-ws serialises an already built response. Each subscriber keeps its own
 * source stream (its bounded queue in the hub, so a slow one is still cut off alone).
 *
 * Results are remembered per event object in a WeakMap: once the hub and every subscriber's
 * queue let go of an update, its responses go with it. An event that is not an object (or is
 * one no one else received, such as a subscriber's first snapshot bar) simply executes alone.
 */
export type SubscribeFn = (
  args: ExecutionArgs,
) => Promise<
  AsyncGenerator<ExecutionResult> | AsyncIterableIterator<ExecutionResult> | ExecutionResult
>;

export function sharedSubscriptionExecutor(groupOf: (args: ExecutionArgs) => string): SubscribeFn {
  const responses = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();
  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const group = `${groupOf(args)}\u0000${args.operationName ?? ''}\u0000${documentKey(args)}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    const respond = (event: unknown): Promise<ExecutionResult> | ExecutionResult => {
      if (typeof event !== 'object' || event === null) {
        return execute({ ...args, rootValue: event });
      }
      let byGroup = responses.get(event);
      if (byGroup === undefined) {
        byGroup = new Map();
        responses.set(event, byGroup);
      }
      let response = byGroup.get(group);
      if (response === undefined) {
        response = execute({ ...args, rootValue: event });
        byGroup.set(group, response);
      }
      return response;
    };
    return mapEvents(stream, respond);
  };
}

/** The document's source text when it was parsed from one (graphql-ws parses each subscriber's). */
function documentKey(args: ExecutionArgs): string {
  const body = args.document.loc?.source.body;
  // A document built in code has no source: it is its own group (no sharing, still correct).
  return body ?? `#${identity(args.document)}`;
}

const identities = new WeakMap<object, number>();
let nextIdentity = 0;
function identity(value: object): number {
  let id = identities.get(value);
  if (id === undefined) identities.set(value, (id = nextIdentity++));
  return id;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Maps a source stream to responses as graphql-js's `mapAsyncIterator` does: closing the
 * response stream closes the source, and an error of the source (SLOW_CONSUMER) reaches the
 * subscriber as the stream's error.
 */
function mapEvents(
  source: AsyncIterable<unknown>,
  respond: (event: unknown) => Promise<ExecutionResult> | ExecutionResult,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async () => {
    try {
      await iterator.return?.();
    } catch {
      // Already closing for another reason, which the caller is told.
    }
  };
  const map = async (result: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> => {
    if (result.done) return { value: undefined, done: true };
    try {
      return { value: await respond(result.value), done: false };
    } catch (error) {
      await close();
      throw error;
    }
  };
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => mapped,
    next: async () => map(await iterator.next()),
    return: async () => {
      await close();
      return { value: undefined, done: true };
    },
    throw: async (error: unknown) => {
      if (iterator.throw) return map(await iterator.throw(error));
      throw error;
    },
  };
  return mapped;
}
