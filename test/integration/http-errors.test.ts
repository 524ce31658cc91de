import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import { startApiServer, type ApiServer } from '../../src/graphql/index.js';

/**
 * Every request the server cannot serve gets the GraphQL error shape,
 * `{"errors":[{"message", "extensions":{"code"}}]}`, as JSON with the right status:
 * malformed JSON, a wrong content type, a body over the limit, an unknown path or
 * method. Never Express's HTML page, a stack trace or a path on the server, in
 * production or development (Express itself turns stack traces on when NODE_ENV is
 * anything but `production`, so both are started here).
 */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OVER_LIMIT = JSON.stringify({ query: '{ __typename }', padding: 'x'.repeat(1024 * 1024) });

interface Case {
  readonly name: string;
  readonly path: string;
  readonly init: RequestInit;
  readonly status: number;
  readonly code: string;
  readonly allow?: string;
}

const json = { 'content-type': 'application/json' };
const CASES: readonly Case[] = [
  {
    name: 'malformed JSON',
    path: '/graphql',
    init: { method: 'POST', headers: json, body: '{"query": "{ __typename }"' },
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a JSON body that is not an object',
    path: '/graphql',
    init: { method: 'POST', headers: json, body: '"{ __typename }"' },
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a JSON body without a query (refused by Apollo)',
    path: '/graphql',
    init: { method: 'POST', headers: json, body: '{}' },
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a POST without a body',
    path: '/graphql',
    init: { method: 'POST' },
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a wrong content type',
    path: '/graphql',
    init: {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"query": "{ __typename }"}',
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'form data',
    path: '/graphql',
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7B__typename%7D',
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'an unsupported charset',
    path: '/graphql',
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
      body: '{"query": "{ __typename }"}',
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a body over the 1 MB limit',
    path: '/graphql',
    init: { method: 'POST', headers: json, body: OVER_LIMIT },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'an unknown path',
    path: '/no/such/path',
    init: { method: 'GET', headers: { accept: 'text/html' } },
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a POST to an unknown path',
    path: '/graphq',
    init: { method: 'POST', headers: json, body: '{"query": "{ __typename }"}' },
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'an unknown GraphiQL asset',
    path: '/graphiql/no-such-asset.js',
    init: { method: 'GET' },
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'PUT on /graphql',
    path: '/graphql',
    init: { method: 'PUT', headers: json, body: '{"query": "{ __typename }"}' },
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'GET, POST',
  },
  {
    name: 'DELETE on /graphql',
    path: '/graphql',
    init: { method: 'DELETE' },
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'GET, POST',
  },
  {
    name: 'POST on /healthz',
    path: '/healthz',
    init: { method: 'POST', headers: json, body: '{}' },
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'GET, HEAD',
  },
  {
    name: 'PATCH on /metrics',
    path: '/metrics',
    init: { method: 'PATCH' },
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'GET, HEAD',
  },
];

// With a response cache, POSTs to /graphql go through the cache-hit fast path first
// (fast-path.ts), which reads the body before Express: every refusal must stay the same.
const MODES = [
  { nodeEnv: 'production', development: false, responseCacheBytes: 0 },
  { nodeEnv: 'development', development: true, responseCacheBytes: 0 },
  { nodeEnv: 'production', development: false, responseCacheBytes: 8 << 20 },
] as const;

describe.each(MODES)(
  'HTTP errors with NODE_ENV=$nodeEnv, response cache $responseCacheBytes bytes',
  ({ nodeEnv, development, responseCacheBytes }) => {
    const home = mkdtempSync(path.join(tmpdir(), 'alphalake-http-errors-'));
    const bodies: string[] = [];
    let platform: Platform;
    let server: ApiServer;
    let origin: string;

    beforeAll(async () => {
      const before = process.env['NODE_ENV'];
      process.env['NODE_ENV'] = nodeEnv;
      try {
        platform = await createPlatform(
          configWith({ home, port: 0, backfillSessions: 0, authMode: 'off' }),
        );
        server = await startApiServer(platform.api, {
          host: '127.0.0.1',
          port: 0,
          development,
          ready: () => true,
          auth: platform.auth,
          responseCacheBytes,
        });
      } finally {
        process.env['NODE_ENV'] = before;
      }
      origin = new URL(server.url).origin;
    });

    afterAll(async () => {
      await server?.close();
      await platform?.stop();
      rmSync(home, { recursive: true, force: true });
    });

    async function send(
      target: string,
      init: RequestInit,
    ): Promise<{ status: number; type: string; allow: string | null; text: string }> {
      const response = await fetch(origin + target, init);
      const text = await response.text();
      bodies.push(text);
      return {
        status: response.status,
        type: response.headers.get('content-type') ?? '',
        allow: response.headers.get('allow'),
        text,
      };
    }

    it.each(CASES)('$name gets $status $code as JSON', async (c) => {
      const response = await send(c.path, c.init);
      expect(response.status).toBe(c.status);
      expect(response.type).toMatch(/^application\/json\b/);
      const body = JSON.parse(response.text) as {
        errors: { message: string; extensions: { code: string } }[];
      };
      expect(Object.keys(body)).toEqual(['errors']);
      expect(body.errors).toHaveLength(1);
      expect(Object.keys(body.errors[0]!)).toEqual(['message', 'extensions']);
      expect(body.errors[0]!.extensions).toEqual({ code: c.code });
      expect(body.errors[0]!.message.length).toBeGreaterThan(10);
      if (c.allow) expect(response.allow).toBe(c.allow);
    });

    /** A WebSocket handshake: the status and body of a refusal, or 101 when it opens. */
    function upgrade(
      target: string,
      headers: Record<string, string>,
    ): Promise<{ status: number; type: string; text: string }> {
      return new Promise((resolve, reject) => {
        const req = request(origin + target, { headers: { connection: 'Upgrade', ...headers } });
        req.on('upgrade', (response, socket) => {
          socket.destroy();
          resolve({ status: response.statusCode ?? 0, type: '', text: '' });
        });
        req.on('response', (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            bodies.push(text);
            resolve({
              status: response.statusCode ?? 0,
              type: String(response.headers['content-type']),
              text,
            });
          });
        });
        req.on('error', reject);
        req.end();
      });
    }

    const handshake = {
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-protocol': 'graphql-transport-ws',
    };

    it.each([
      {
        name: 'a WebSocket to an unknown path',
        path: '/nope',
        headers: handshake,
        status: 404,
        code: 'NOT_FOUND',
      },
      {
        name: 'a WebSocket handshake without a key',
        path: '/graphql',
        headers: { ...handshake, 'sec-websocket-key': '' },
        status: 400,
        code: 'BAD_REQUEST',
      },
    ])('$name gets $status $code as JSON', async ({ path: target, headers, status, code }) => {
      const response = await upgrade(target, headers);
      expect(response.status).toBe(status);
      expect(response.type).toMatch(/^application\/json\b/);
      expect(JSON.parse(response.text).errors[0].extensions).toEqual({ code });
    });

    it('still opens a graphql-ws WebSocket on /graphql', async () => {
      expect((await upgrade('/graphql', handshake)).status).toBe(101);
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
      const reply = await new Promise<string>((resolve, reject) => {
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
        socket.on('message', (data: Buffer) => resolve(data.toString()));
        socket.on('error', reject);
      });
      socket.close();
      expect(JSON.parse(reply)).toEqual({ type: 'connection_ack' });
    });

    it('keeps the GraphQL errors as they were: a parse error, a bad argument, a subscription over HTTP', async () => {
      const post = (query: string) =>
        send('/graphql', { method: 'POST', headers: json, body: JSON.stringify({ query }) });

      const parse = await post('{ lakeStatus {');
      expect(parse.status).toBe(400);
      expect(JSON.parse(parse.text).errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');

      const badInput = await post('{ bars(symbol: "AAPL", from: "not a time") { ts } }');
      expect(JSON.parse(badInput.text).errors[0].extensions.code).toMatch(
        /^(BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED)$/,
      );

      const subscription = await post('subscription { trades(symbols: ["AAPL"]) { price } }');
      const refused = JSON.parse(subscription.text).errors[0];
      expect(refused.extensions.code).toBe('BAD_USER_INPUT');
      expect(refused.message).toContain('WebSocket');
    });

    it('still serves what it serves: /healthz, GraphiQL, a query', async () => {
      expect(JSON.parse((await send('/healthz', { method: 'GET' })).text)).toEqual({
        status: 'ok',
      });
      const page = await send('/graphql', { method: 'GET', headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.type).toMatch(/^text\/html\b/);
      const query = await send('/graphql', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(JSON.parse(query.text)).toEqual({ data: { __typename: 'Query' } });
    });

    it('never shows a stack frame, a server path or an HTML error page', () => {
      expect(bodies.length).toBeGreaterThanOrEqual(CASES.length);
      for (const body of bodies) {
        expect(body).not.toContain('    at ');
        expect(body).not.toContain(REPO_ROOT);
        expect(body).not.toContain('node_modules');
        expect(body).not.toMatch(/stacktrace/i);
      }
      const errorBodies = bodies.filter((body) => body.startsWith('{"errors"'));
      expect(errorBodies.length).toBeGreaterThanOrEqual(CASES.length);
    });
  },
);
