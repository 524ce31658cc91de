import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AlphalakeError, type Trade } from '../../domain/index.js';
import type { CheckedRecords, Reject } from '../ingestor.js';
import type { CheckpointChunk, CheckpointSink, JobProgress } from './file-backfill.js';
import { processLogger } from '../../logging/index.js';

/**
 * What the lake holds of the records a killed producer may have published: the lake side
 * of a Kafka-mode file replay's resume (src/batch/sink/lake-ledger.ts implements it).
 */
export interface CommittedLedger {
  /**
   * Resolves once the sink has committed every record the bus held when this was called
   * (each partition's offsets in the lake at or past the bus's end offsets).
   */
  caughtUp(signal: AbortSignal): Promise<void>;
  /** The `symbol\0id` of each of these trades that bronze.trades holds. */
  heldTrades(trades: readonly Trade[], signal: AbortSignal): Promise<ReadonlySet<string>>;
  /**
   * How many rows of bronze.rejects of `source` received at or after `since` (µs) hold each
   * `reason\0payload`.
   */
  heldRejects(
    source: string,
    since: number,
    signal: AbortSignal,
  ): Promise<ReadonlyMap<string, number>>;
}

/** The record kinds a file chunk publishes, in the order they are published. */
const KINDS = ['trades', 'quotes', 'bars', 'rejects'] as const;
type Kind = (typeof KINDS)[number];

/** A job's checkpoint file: `<folder>/<sha-256 of the job>.json`. */
interface CheckpointState {
  readonly job: string;
  /** Source rows of the file whose records every topic acknowledged (acks from all in-sync replicas). */
  readonly rows: number;
  readonly complete: boolean;
  /** Clock µs when `rows` was reached: the next chunk's rejects were all received after it. */
  readonly at: number;
  /** The chunk being published when the file was last written, if one was. */
  readonly inflight?: {
    readonly rowsEnd: number;
    /** Kinds of the chunk every record of which was acknowledged. */
    readonly done: readonly Kind[];
    /** The kind whose publish had begun: some, all or none of it may be on the bus. */
    readonly publishing: Kind;
  };
}

export interface ProducerCheckpointOptions {
  /** Where the checkpoint files live (`ALPHALAKE_HOME/ingest`). */
  readonly folder: string;
  /** Publishes checked records to their topics (the Ingestor's `publishChecked`). */
  readonly publish: (
    checked: CheckedRecords,
    source: string,
    signal?: AbortSignal,
  ) => Promise<void>;
  readonly ledger: CommittedLedger;
  /** The clock the ingestor stamps rejects with, µs. */
  readonly now: () => number;
}

/**
 * The checkpoints of `alphalake ingest --source file` with Kafka (`KAFKA_BROKERS`), where the
 * lake sink runs in another process and the producer cannot commit with it. Each chunk of
 * a file job (src/ingest/files/file-backfill.ts) is published kind by kind (trades, quotes,
 * bars, rejects), each publish resolving once Kafka acknowledged every record (acks from
 * all in-sync replicas), and a checkpoint file under `ALPHALAKE_HOME/ingest` says how far
 * the job got: written (atomically: a temporary file renamed over it) before each kind's
 * publish with the kind it begins, and after the chunk with its source rows done.
 *
 * So after a kill at any moment at most one kind of one chunk is uncertain: some of its
 * records may be on the bus. A resumed run re-reads that chunk (its rows end where the
 * first run's did), passes over the kinds that were acknowledged, and for the uncertain
 * one first waits for the sink to commit everything the bus holds
 * (`CommittedLedger.caughtUp`), then sends only what the lake does not hold: trades by
 * (symbol, id), rejects by (reason, payload) received since the previous chunk; vendor bars
 * are sent again (bronze.vendor_bars upserts on the bar's key); quotes are sent again and
 * may repeat (a quote has no id: docs/ingest.md says so).
 */
export class ProducerCheckpoint implements CheckpointSink {
  constructor(private readonly options: ProducerCheckpointOptions) {}

  async progress(job: string): Promise<JobProgress> {
    const state = await this.read(job);
    return { rows: state?.rows ?? 0, complete: state?.complete ?? false };
  }

  async commitChunk(job: string, chunk: CheckpointChunk, signal?: AbortSignal): Promise<void> {
    const signalOrNever = signal ?? new AbortController().signal;
    let state: CheckpointState = (await this.read(job)) ?? { job, rows: 0, complete: false, at: 0 };
    const resumed = state.inflight?.rowsEnd === chunk.rowsEnd ? state.inflight : undefined;
    const done = new Set<Kind>(resumed?.done ?? []);
    for (const kind of KINDS) {
      if (done.has(kind) || chunk.checked[kind].length === 0) continue;
      const records =
        resumed?.publishing === kind
          ? await this.unheld(kind, chunk, state.at, signalOrNever)
          : chunk.checked[kind];
      state = {
        ...state,
        inflight: { rowsEnd: chunk.rowsEnd, done: [...done], publishing: kind },
      };
      await this.write(state);
      if (records.length > 0) {
        await this.options.publish({ ...NOTHING, [kind]: records }, chunk.source, signal);
      }
      done.add(kind);
    }
    await this.write({
      job,
      rows: chunk.rowsEnd,
      complete: chunk.last,
      at: this.options.now(),
    });
  }

  /** The records of `kind` in `chunk` the lake does not hold (the sink caught up first). */
  private async unheld<K extends Kind>(
    kind: K,
    chunk: CheckpointChunk,
    since: number,
    signal: AbortSignal,
  ): Promise<CheckedRecords[K]> {
    const { ledger } = this.options;
    const records = chunk.checked[kind];
    if (kind !== 'trades' && kind !== 'rejects') return records;
    await ledger.caughtUp(signal);
    let kept: unknown[];
    if (kind === 'trades') {
      const held = await ledger.heldTrades(chunk.checked.trades, signal);
      kept = chunk.checked.trades.filter((t) => !held.has(`${t.symbol}\u0000${t.id}`));
    } else {
      const held = new Map(await ledger.heldRejects(chunk.source, since, signal));
      kept = chunk.checked.rejects.filter((r: Reject) => {
        const key = `${r.reason}\u0000${r.payload}`;
        const count = held.get(key) ?? 0;
        if (count > 0) held.set(key, count - 1);
        return count === 0;
      });
    }
    processLogger().info(
      {
        source: chunk.source,
        kind,
        records: records.length,
        alreadyCommitted: records.length - kept.length,
      },
      'resumed the chunk an interrupted run was publishing: what the lake holds is not sent again',
    );
    return kept as CheckedRecords[K];
  }

  private fileOf(job: string): string {
    const name = createHash('sha256').update(job).digest('hex').slice(0, 32);
    return path.join(this.options.folder, `${name}.json`);
  }

  private async read(job: string): Promise<CheckpointState | undefined> {
    let text: string;
    try {
      text = await readFile(this.fileOf(job), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const state = JSON.parse(text) as CheckpointState;
    if (state.job !== job) {
      throw new AlphalakeError(
        'INTERNAL',
        `${this.fileOf(job)} holds the checkpoint of ${state.job}, not of ${job}`,
      );
    }
    return state;
  }

  /** Replaces the job's checkpoint whole: a rename, so a kill leaves the old or the new one. */
  private async write(state: CheckpointState): Promise<void> {
    const file = this.fileOf(state.job);
    await mkdir(this.options.folder, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(state)}\n`);
    await rename(temporary, file);
  }
}

const NOTHING: CheckedRecords = { trades: [], quotes: [], bars: [], news: [], rejects: [] };
