import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

/** Files GraphiQL needs, served from our own node_modules: no CDN. */
export const GRAPHIQL_ASSETS: Readonly<Record<string, string>> = {
  'react.js': path.join(packageDir('react'), 'umd/react.production.min.js'),
  'react-dom.js': path.join(packageDir('react-dom'), 'umd/react-dom.production.min.js'),
  'graphiql.js': path.join(packageDir('graphiql'), 'graphiql.min.js'),
  'graphiql.css': path.join(packageDir('graphiql'), 'graphiql.min.css'),
};

export const GRAPHIQL_ASSET_PREFIX = '/graphiql/';

const EXAMPLE_QUERY = `# Welcome to alphalake. Bars come from the lake below the watermark and
# from the speed layer above it: see each bar's \`source\`.
{
  lakeStatus { watermark }
  bars(symbol: "AAPL", limit: 10) { ts open high low close volume vwap tradeCount source }
}

# Open a second tab and run:
# subscription { trades(symbols: ["AAPL"]) { ts symbol price size } }
`;

export function graphiqlPage(endpoint: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>alphalake · GraphiQL</title>
  <link rel="stylesheet" href="${GRAPHIQL_ASSET_PREFIX}graphiql.css" />
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script src="${GRAPHIQL_ASSET_PREFIX}react.js"></script>
  <script src="${GRAPHIQL_ASSET_PREFIX}react-dom.js"></script>
  <script src="${GRAPHIQL_ASSET_PREFIX}graphiql.js"></script>
  <script>
    const url = new URL(${JSON.stringify(endpoint)}, location.href);
    const wsUrl = url.href.replace(/^http/, 'ws');
    const fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: wsUrl });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery: ${JSON.stringify(EXAMPLE_QUERY)} }),
    );
  </script>
</body>
</html>`;
}
