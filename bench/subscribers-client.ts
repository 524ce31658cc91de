import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * The subscriber side of bench/subscribers.ts, run as its own process (forked) so that
 * the subscribers' parsing does not share the server's event loop. It opens SUBSCRIBERS
 * graphql-ws clients on `bars(symbols: ["AAPL"])` and, if asked, one slow subscriber that
 * subscribes to a wide query and then stops reading its socket. On `collect` it waits until
 * every client holds the published bars, checks each received exactly them in order, and
 * answers with the latencies' percentiles. Latency: the wall clock here (epoch µs) minus
 * the bar's `tsMicros`, which the server stamps with its wall clock when it publishes.
 */
interface Start {
  readonly type: 'start';
  readonly wsUrl: string;
  readonly subscribers: number;
  /** Aliases of `close` in the slow subscriber's query; 0: no slow subscriber. */
  readonly slowAliases: number;
}

interface Collect {
  readonly type: 'collect';
  /** The `tsMicros` of every AAPL bar published, in order. */
  readonly published: readonly number[];
  /** The first `tsMicros` published after the slow subscriber was cut off (or none). */
  readonly droppedAt: number | null;
}

const nowMicros = () => (performance.timeOrigin + performance.now()) * 1_000;

const clients: Client[] = [];
const received: { ts: number; latency: number }[][] = [];
/** Subscribers (by index) the server closed, and how: counted and left out of the figures. */
const failed = new Map<number, string>();
let slowClosed: Promise<{ code: number; reason: string }> | undefined;
let slowSocket: WebSocket | undefined;

process.on('message', (message: Start | Collect | { type: 'resume' }) => {
  if (message.type === 'start') start(message);
  // The server cut the slow subscriber off: read again, so its close frame (queued behind
  // the updates the kernel holds) arrives before the server gives up on the socket.
  else if (message.type === 'resume') slowSocket?.resume();
  // Exits once answered (a CPU profile, `node --cpu-prof`, is written at exit).
  else
    void collect(message).then((answer) =>
      process.send!(answer, undefined, undefined, () => process.exit(0)),
    );
});

function start({ wsUrl, subscribers, slowAliases }: Start): void {
  for (let i = 0; i < subscribers; i++) {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const mine: { ts: number; latency: number }[] = [];
    received.push(mine);
    clients.push(client);
    client.subscribe<{ bars: { tsMicros: number } }>(
      { query: 'subscription { bars(symbols: ["AAPL"]) { tsMicros close } }' },
      {
        next: (m) => {
          const at = nowMicros();
          const ts = m.data?.bars.tsMicros;
          if (ts === undefined) throw new Error(`subscriber ${i}: ${JSON.stringify(m)}`);
          mine.push({ ts, latency: at - ts });
        },
        error: (error) => {
          const close = error as { code?: number; reason?: string };
          failed.set(i, close.code ? `${close.code} ${close.reason}` : String(error));
        },
        complete: () => undefined,
      },
    );
  }
  if (slowAliases > 0) {
    const fields = Array.from({ length: slowAliases }, (_, i) => `c${i}: close`).join(' ');
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
    slowSocket = ws;
    slowClosed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
    ws.on('message', (data) => {
      if (JSON.parse(data.toString()).type !== 'connection_ack') return;
      ws.send(
        JSON.stringify({
          id: 'slow',
          type: 'subscribe',
          payload: { query: `subscription { bars(symbols: ["AAPL"]) { ${fields} } }` },
        }),
      );
      // From here on nothing is read: the server's writes fill the kernel's buffers.
      ws.pause();
    });
  }
}

async function collect({ published, droppedAt }: Collect) {
  const live = () => received.filter((_, i) => !failed.has(i));
  while (live().some((r) => r.length < published.length)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const wrong = received.findIndex(
    (r, i) =>
      !failed.has(i) && (r.length !== published.length || r.some((u, j) => u.ts !== published[j])),
  );
  if (wrong >= 0) throw new Error(`subscriber ${wrong} did not receive exactly the published bars`);
  const all: number[] = [];
  const afterDrop: number[] = [];
  for (const r of live()) {
    for (const u of r) {
      all.push(u.latency);
      if (droppedAt !== null && u.ts >= droppedAt) afterDrop.push(u.latency);
    }
  }
  let slow: { code: number; reason: string } | null = null;
  if (slowSocket && slowClosed) {
    slowSocket.resume();
    slow = await slowClosed;
  }
  await Promise.all(clients.map((c) => c.dispose()));
  const reasons = [...new Set(failed.values())].join(', ');
  return {
    type: 'result',
    all: percentiles(all),
    afterDrop: percentiles(afterDrop),
    slow,
    failed: failed.size === 0 ? null : `${failed.size} (${reasons})`,
  };
}

/** µs → ms percentiles (nearest rank). */
function percentiles(micros: number[]) {
  if (micros.length === 0) return null;
  micros.sort((a, b) => a - b);
  const at = (q: number) => micros[Math.min(micros.length - 1, Math.ceil(q * micros.length) - 1)]!;
  return {
    p50: at(0.5) / 1000,
    p99: at(0.99) / 1000,
    max: micros.at(-1)! / 1000,
    n: micros.length,
  };
}
