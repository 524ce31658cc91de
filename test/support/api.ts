import type { Platform } from '../../src/app.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../src/graphql/index.js';

/**
 * The platform's GraphQL server on a free loopback port, as tests use it: production
 * error masking, ready when the platform is, authenticating as the platform's config
 * says (AUTH_MODE). `overrides` adds or replaces options.
 */
export function startLoopbackApi(
  platform: Platform,
  overrides: Partial<ApiServerOptions> = {},
): Promise<ApiServer> {
  return startApiServer(platform.api, {
    host: '127.0.0.1',
    port: 0,
    development: false,
    ready: () => platform.ready,
    auth: platform.auth,
    ...overrides,
  });
}
