/** HTTP and WebSocket transport: the Express/Apollo server, request context, error mapping, GraphiQL, request logging. */
export * from './context.js';
export * from './credential-watch.js';
export * from './fast-path.js';
export * from './graphiql.js';
export * from './http-errors.js';
export * from './http-handler.js';
export * from './observability.js';
export * from './send-response.js';
export * from './server.js';
