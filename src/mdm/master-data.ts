import { createHash, randomUUID } from 'node:crypto';
import { AlphalakeError, type Clock, type SymbolInfo } from '../domain/index.js';
import { startOfDate, TIME_MAX, TIME_MIN } from './adjustments.js';
import {
  ASSET_CLASSES,
  SYMBOL_STATUSES,
  type AssetClass,
  type AuditAction,
  type AuditQuery,
  type AuditRecord,
  type CorporateActionRecord,
  type MasterDataStore,
  type SymbolChangeRecord,
  type SymbolRecord,
  type SymbolStatus,
} from './master-data-store.js';
import {
  knownListing,
  type SymbolDirectory,
  type SymbolSeries,
  type TickerSegment,
} from './symbol-directory.js';

/** What ingest does with a ticker master data does not know (MDM_UNKNOWN_SYMBOLS). */
export type UnknownSymbolPolicy = 'reject' | 'pending';

/** A symbol as a client creates it; omitted fields take the defaults shown. */
export interface SymbolInput {
  readonly ticker: string;
  readonly name: string;
  readonly exchange: string;
  /** @default 'EQUITY' */
  readonly assetClass?: string | undefined;
  /** @default 'USD' */
  readonly currency?: string | undefined;
  readonly sector?: string | null | undefined;
  readonly industry?: string | null | undefined;
  readonly listedDate?: string | null | undefined;
  readonly delistedDate?: string | null | undefined;
  /** @default 'ACTIVE' ('DELISTED' when a delisted date is given) */
  readonly status?: string | undefined;
}

/** The fields an update may change (the ticker changes only by `renameSymbol`). */
export type SymbolPatch = Partial<Omit<SymbolInput, 'ticker'>>;

export interface CorporateActionInput {
  readonly symbol: string;
  readonly kind: string;
  readonly exDate: string;
  readonly splitFrom?: number | null | undefined;
  readonly splitTo?: number | null | undefined;
  readonly cashAmount?: number | null | undefined;
  readonly currency?: string | null | undefined;
  /** @default 'manual' */
  readonly source?: string | null | undefined;
}

/** A symbol as read: its record, and the tickers it had (ticker changes by date). */
export interface SymbolView extends SymbolRecord {
  readonly changes: readonly SymbolChangeRecord[];
}

export interface MasterDataOptions {
  readonly clock: Clock;
  /** @default 'reject' */
  readonly unknownSymbols?: UnknownSymbolPolicy;
}

/** Everything but the audit log, held in memory for the synchronous lookups. */
interface Snapshot {
  readonly symbols: readonly SymbolRecord[];
  readonly changes: readonly SymbolChangeRecord[];
  readonly actions: readonly CorporateActionRecord[];
  readonly byTicker: ReadonlyMap<string, SymbolRecord>;
  readonly byId: ReadonlyMap<string, SymbolRecord>;
  /** Tickers symbols had before a change, to the symbols that had them. */
  readonly formerTickers: ReadonlyMap<string, readonly string[]>;
  readonly revision: string;
}

/**
 * Master data: symbols with their ticker history, corporate actions, and the audit log,
 * over a `MasterDataStore`. It is the `SymbolDirectory` the rest of the platform uses:
 * symbols, changes and actions are held in memory (a few thousand records) so that
 * `isKnown` and ticker resolution stay synchronous; every write goes to the store first
 * and then into memory, and `refresh()` reloads what other processes wrote.
 *
 * Every change is compare-and-set on the symbol's version, and its audit record travels
 * in the same document write (the store's outbox, drained into the log right after), so
 * the log holds exactly the winners, even across a crash between the two steps.
 */
export class MasterData implements SymbolDirectory {
  private snapshot: Snapshot = snapshotOf([], [], []);
  private auditSequence = 0;
  /** Writes of this process applied to `snapshot` (see `refresh`). */
  private localWrites = 0;
  readonly unknownSymbols: UnknownSymbolPolicy;

  private constructor(
    private readonly store: MasterDataStore,
    private readonly clock: Clock,
    unknownSymbols: UnknownSymbolPolicy,
  ) {
    this.unknownSymbols = unknownSymbols;
  }

  static async open(store: MasterDataStore, options: MasterDataOptions): Promise<MasterData> {
    const masterData = new MasterData(store, options.clock, options.unknownSymbols ?? 'reject');
    // Audit records a process left pending (it died between a change and its drain).
    await store.drainAudit();
    await masterData.refresh();
    return masterData;
  }

  get backend(): MasterDataStore['backend'] {
    return this.store.backend;
  }

  /** Whether the store answers now (for `/readyz`). */
  health(signal?: AbortSignal): ReturnType<MasterDataStore['health']> {
    return this.store.health(signal);
  }

  /** Changes whenever symbols, ticker changes or corporate actions do (adjusted reads depend on them). */
  get revision(): string {
    return this.snapshot.revision;
  }

  /** Reloads symbols, changes and actions from the store (writes by other processes). */
  async refresh(): Promise<void> {
    for (;;) {
      const writes = this.localWrites;
      const [symbols, changes, actions] = await Promise.all([
        this.store.symbols(),
        this.store.changes(),
        this.store.corporateActions(),
      ]);
      // A write of this process that landed while reading may be missing from what was
      // read: read again rather than let the older copy replace it.
      if (writes !== this.localWrites) continue;
      this.snapshot = snapshotOf(symbols, changes, actions);
      return;
    }
  }

  /** Replaces the in-memory copy after a write of this process. */
  private applyLocal(snapshot: Snapshot): void {
    this.localWrites++;
    this.snapshot = snapshot;
  }

  // SymbolDirectory

  isKnown(ticker: string): boolean {
    return this.snapshot.byTicker.has(ticker) || this.snapshot.formerTickers.has(ticker);
  }

  async list(): Promise<SymbolInfo[]> {
    return this.snapshot.symbols.map(infoOf);
  }

  async get(ticker: string): Promise<SymbolInfo | undefined> {
    const symbol = this.resolve(ticker);
    return symbol && infoOf(symbol);
  }

  series(ticker: string): SymbolSeries | undefined {
    const symbol = this.resolve(ticker);
    if (!symbol) return undefined;
    return {
      symbolId: symbol.id,
      ticker: symbol.ticker,
      segments: this.segments(symbol),
      actions: this.snapshot.actions.filter((a) => a.symbolId === symbol.id),
    };
  }

  // Reads

  /**
   * The symbol a ticker names. With `asOf` (`YYYY-MM-DD`), the one that traded under that
   * ticker on that date; without, the one trading under it now, else the one that had
   * it most recently.
   */
  symbol(ticker: string, asOf?: string): SymbolView | undefined {
    const wanted = normalizeTicker(ticker);
    if (asOf !== undefined) {
      const date = checkDate('asOf', asOf);
      const at = startOfDate(date);
      // Listed on that date (a ticker reused later belongs to the symbol listed then).
      const symbol = this.snapshot.symbols.find(
        (s) =>
          (s.listedDate === null || s.listedDate <= date) &&
          (s.delistedDate === null || date < s.delistedDate) &&
          tickerAt(this.segments(s), at) === wanted,
      );
      return symbol && this.view(symbol);
    }
    const symbol = this.resolve(wanted);
    return symbol && this.view(symbol);
  }

  /**
   * Without `asOf`, every symbol. With it, the point-in-time universe: the symbols listed
   * on that date (listed on or before it, not delisted by it), including those delisted
   * since, each under the ticker it had then; PENDING symbols (unreviewed) are left out.
   */
  symbols(asOf?: string): SymbolView[] {
    if (asOf === undefined) return this.snapshot.symbols.map((s) => this.view(s));
    const date = checkDate('asOf', asOf);
    const at = startOfDate(date);
    return this.snapshot.symbols
      .filter(
        (s) =>
          s.status !== 'PENDING' &&
          (s.listedDate === null || s.listedDate <= date) &&
          (s.delistedDate === null || date < s.delistedDate),
      )
      .map((s) => ({ ...this.view(s), ticker: tickerAt(this.segments(s), at) ?? s.ticker }))
      .sort((a, b) => (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0));
  }

  /** A symbol's corporate actions (through its ticker history) by ex-date. */
  corporateActions(ticker: string): CorporateActionRecord[] {
    const symbol = this.require(ticker);
    return this.snapshot.actions.filter((a) => a.symbolId === symbol.id);
  }

  allCorporateActions(): readonly CorporateActionRecord[] {
    return this.snapshot.actions;
  }

  async auditLog(query: AuditQuery = {}): Promise<AuditRecord[]> {
    if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 1)) {
      throw new AlphalakeError('BAD_USER_INPUT', 'limit must be a positive integer', {
        limit: query.limit,
      });
    }
    // Whatever is still pending (a drain that failed, another process's) is in the answer.
    await this.store.drainAudit();
    return this.store.audit(query);
  }

  // Writes: each goes to the store with its audit record in the same document write, then
  // to memory; then the store's outbox is drained into the audit log (docs/mdm.md).

  /** `id` is for seeding only (a fixed id makes seeding idempotent across processes). */
  async createSymbol(input: SymbolInput, actor: string, id?: string): Promise<SymbolRecord> {
    const fields = checkSymbolFields(input, true);
    // A former ticker of another symbol may be taken again (tickers are reused): a
    // query by it then finds the new symbol, and `asOf` finds the old one.
    const ticker = fields.ticker as string;
    const symbol: SymbolRecord = {
      id: id ?? randomUUID(),
      ticker,
      name: fields.name as string,
      exchange: fields.exchange as string,
      assetClass: (fields.assetClass ?? 'EQUITY') as AssetClass,
      currency: fields.currency ?? 'USD',
      sector: fields.sector ?? null,
      industry: fields.industry ?? null,
      listedDate: fields.listedDate ?? null,
      delistedDate: fields.delistedDate ?? null,
      status: (fields.status ?? (fields.delistedDate ? 'DELISTED' : 'ACTIVE')) as SymbolStatus,
      version: 1,
      updatedAt: this.clock.now(),
    };
    checkListing(symbol);
    await this.store.insertSymbol(
      symbol,
      this.auditRecord(actor, 'symbol.create', symbol.id, null, symbol),
    );
    this.putSymbol(symbol);
    await this.store.drainAudit();
    return symbol;
  }

  /**
   * Creates the symbol a ticker names now, or updates it on its current version (an
   * import's row, a reference-data refresh): what it did. A ticker that names a symbol
   * only through history (a former ticker) makes a new symbol.
   */
  async upsertSymbol(
    input: SymbolInput,
    actor: string,
  ): Promise<'CREATED' | 'UPDATED' | 'UNCHANGED'> {
    const ticker = normalizeTicker(input.ticker);
    const existing = this.snapshot.byTicker.get(ticker);
    if (!existing) {
      await this.createSymbol(input, actor);
      return 'CREATED';
    }
    const { ticker: _ticker, ...patch } = input;
    const updated = await this.updateSymbol(ticker, existing.version, patch, actor);
    return updated === existing ? 'UNCHANGED' : 'UPDATED';
  }

  /**
   * Adds a corporate action unless the same one is there already (a refresh run again):
   * CONFLICT when one of that kind on that date differs from it.
   */
  async addCorporateActionOnce(
    input: CorporateActionInput,
    actor: string,
  ): Promise<'CREATED' | 'UNCHANGED'> {
    const symbol = this.require(input.symbol);
    const action = checkAction(input, symbol);
    const existing = this.snapshot.actions.find((a) => a.id === action.id);
    if (existing) {
      // The same terms, whoever recorded them first and under whichever ticker.
      const terms = (a: CorporateActionRecord) =>
        a.kind === 'split'
          ? [a.kind, a.exDate, a.splitFrom, a.splitTo]
          : [a.kind, a.exDate, a.cashAmount, a.currency];
      const same = terms(existing).every((value, i) => value === terms(action)[i]);
      if (same) return 'UNCHANGED';
      throw new AlphalakeError(
        'CONFLICT',
        `a different ${action.kind} of ${symbol.ticker} on ${action.exDate} is recorded already (${existing.source}); remove it first`,
        { id: action.id },
      );
    }
    await this.addCorporateAction(input, actor);
    return 'CREATED';
  }

  /** Compare-and-set on `expectedVersion`: CONFLICT when someone else changed it first. */
  async updateSymbol(
    ticker: string,
    expectedVersion: number,
    patch: SymbolPatch,
    actor: string,
  ): Promise<SymbolRecord> {
    const current = this.require(ticker);
    const fields = checkSymbolFields(patch, false);
    const next: SymbolRecord = {
      ...current,
      ...definedOnly(fields),
      version: expectedVersion + 1,
      updatedAt: this.clock.now(),
    } as SymbolRecord;
    checkListing(next);
    const changed = (Object.keys(next) as (keyof SymbolRecord)[]).some(
      (key) => key !== 'version' && key !== 'updatedAt' && next[key] !== current[key],
    );
    if (!changed && expectedVersion === current.version) return current; // nothing to write or audit
    return this.replace(current, next, expectedVersion, actor, 'symbol.update');
  }

  /** Marks a symbol DELISTED from `date` on (its first session no longer traded). */
  async delistSymbol(
    ticker: string,
    expectedVersion: number,
    date: string,
    actor: string,
  ): Promise<SymbolRecord> {
    const current = this.require(ticker);
    const next: SymbolRecord = {
      ...current,
      status: 'DELISTED',
      delistedDate: checkDate('date', date),
      version: expectedVersion + 1,
      updatedAt: this.clock.now(),
    };
    checkListing(next);
    return this.replace(current, next, expectedVersion, actor, 'symbol.delist');
  }

  /**
   * A ticker change: from `effectiveDate` on the symbol trades as `newTicker`, and a
   * query by either ticker finds it (docs/mdm.md, "Ticker changes").
   */
  async renameSymbol(
    ticker: string,
    expectedVersion: number,
    newTicker: string,
    effectiveDate: string,
    actor: string,
  ): Promise<SymbolRecord> {
    const current = this.require(ticker);
    const toTicker = checkTicker(newTicker);
    const date = checkDate('effectiveDate', effectiveDate);
    const earlier = this.snapshot.changes.filter((c) => c.symbolId === current.id);
    const last = earlier.at(-1);
    if (last && date <= last.effectiveDate) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `effectiveDate ${date} must be after the symbol's last ticker change (${last.effectiveDate})`,
        { field: 'effectiveDate' },
      );
    }
    if (toTicker === current.ticker) {
      throw new AlphalakeError('BAD_USER_INPUT', `${toTicker} is already the symbol's ticker`, {
        field: 'newTicker',
      });
    }
    const next: SymbolRecord = {
      ...current,
      ticker: toTicker,
      version: expectedVersion + 1,
      updatedAt: this.clock.now(),
    };
    const change: SymbolChangeRecord = {
      id: `${current.id}:${date}`,
      symbolId: current.id,
      fromTicker: current.ticker,
      toTicker,
      effectiveDate: date,
    };
    // One write: the symbol's new ticker, its audit record and its ticker change (the
    // store's outbox; `changes()` lists the change at once, the drain files it).
    await this.store.replaceSymbol(
      next,
      expectedVersion,
      this.auditRecord(actor, 'symbol.rename', current.id, current, { ...next, change }),
      change,
    );
    this.putSymbol(next);
    this.applyLocal(
      snapshotOf(this.snapshot.symbols, [...this.snapshot.changes, change], this.snapshot.actions),
    );
    await this.store.drainAudit();
    return next;
  }

  async addCorporateAction(
    input: CorporateActionInput,
    actor: string,
  ): Promise<CorporateActionRecord> {
    const symbol = this.require(input.symbol);
    const action = checkAction(input, symbol);
    await this.store.insertCorporateAction(
      action,
      this.auditRecord(actor, 'corporateAction.add', action.id, null, action),
    );
    this.applyLocal(
      snapshotOf(this.snapshot.symbols, this.snapshot.changes, [...this.snapshot.actions, action]),
    );
    await this.store.drainAudit();
    return action;
  }

  async removeCorporateAction(id: string, actor: string): Promise<CorporateActionRecord> {
    // Actions never change once recorded: the copy held here is what the store holds.
    const held = () => this.snapshot.actions.find((a) => a.id === id);
    if (!held()) await this.refresh(); // another process may have added it
    const known = held();
    const removed =
      known &&
      (await this.store.deleteCorporateAction(
        id,
        this.auditRecord(actor, 'corporateAction.remove', id, known, null),
      ));
    if (!removed) {
      throw new AlphalakeError('NOT_FOUND', `no corporate action with id ${id}`, { id });
    }
    this.applyLocal(
      snapshotOf(
        this.snapshot.symbols,
        this.snapshot.changes,
        this.snapshot.actions.filter((a) => a.id !== id),
      ),
    );
    await this.store.drainAudit();
    return removed;
  }

  /**
   * Ingest met tickers no symbol has. Under MDM_UNKNOWN_SYMBOLS=pending each becomes a
   * PENDING symbol (audited as `actor`), and the records are accepted; under `reject`
   * nothing is created and validation rejects them with UNKNOWN_SYMBOL.
   */
  async admitUnknown(tickers: readonly string[], actor: string): Promise<void> {
    if (this.unknownSymbols !== 'pending') return;
    for (const ticker of new Set(tickers)) {
      if (this.isKnown(ticker)) continue;
      try {
        checkTicker(ticker);
      } catch {
        continue; // not a ticker at all: validation rejects the record
      }
      await this.createSymbol(
        { ticker, name: ticker, exchange: 'XXXX', status: 'PENDING' },
        actor,
      ).catch(async (error: unknown) => {
        // Another process created it first: it is known now.
        if (!(error instanceof AlphalakeError && error.code === 'CONFLICT')) throw error;
        await this.refresh();
      });
    }
  }

  /** Creates the tickers no symbol has, ACTIVE (the simulator's symbols on first start). */
  async ensureSymbols(tickers: readonly string[], actor: string): Promise<void> {
    for (const ticker of tickers) {
      if (this.isKnown(ticker)) continue;
      // A fixed id: processes sharing an embedded folder that seed at once write the same
      // document (NeDB's later line for an `_id` wins on load), never two with one ticker.
      await this.createSymbol({ ticker, ...knownListing(ticker) }, actor, `seed:${ticker}`).catch(
        async (error: unknown) => {
          // Another process (every role starts this way) created it first: it is known now.
          if (!(error instanceof AlphalakeError && error.code === 'CONFLICT')) throw error;
          await this.refresh();
        },
      );
    }
  }

  // Internals

  private async replace(
    current: SymbolRecord,
    next: SymbolRecord,
    expectedVersion: number,
    actor: string,
    action: AuditAction,
  ): Promise<SymbolRecord> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 1) {
      throw new AlphalakeError('BAD_USER_INPUT', 'version must be a positive integer', {
        field: 'version',
      });
    }
    try {
      await this.store.replaceSymbol(
        next,
        expectedVersion,
        this.auditRecord(actor, action, current.id, current, next),
      );
    } catch (error) {
      // What lost the race should see the winner on its next read.
      if (error instanceof AlphalakeError && error.code === 'CONFLICT') await this.refresh();
      throw error;
    }
    this.putSymbol(next);
    await this.store.drainAudit();
    return next;
  }

  /**
   * Appends a change made outside master data to the same audit log. Users and API keys
   * (src/auth) come with the id and time of the record their own store's outbox holds,
   * and so do jobs a mutation enqueued (their record waits in the job's data), so
   * recording one twice leaves it once (docs/mdm.md "Audit log").
   */
  async recordChange(
    actor: string,
    action: AuditAction,
    entity: string,
    before: unknown,
    after: unknown,
    record?: { readonly id: string; readonly at: number },
  ): Promise<void> {
    const audit = record
      ? { id: record.id, at: record.at, actor, action, entity, before, after }
      : this.auditRecord(actor, action, entity, before, after);
    await this.store.appendAudit(audit).catch((error: unknown) => {
      // A record that comes with its id may be recorded again (its outbox drained after a
      // crash): the log has it once already.
      if (record && error instanceof AlphalakeError && error.code === 'CONFLICT') return;
      throw error;
    });
  }

  /** A new audit record of a change about to be written, with its unique id. */
  private auditRecord(
    actor: string,
    action: AuditAction,
    entity: string,
    before: unknown,
    after: unknown,
  ): AuditRecord {
    const at = this.clock.now();
    // Ordered by time, then by the order of writes in this process (a manual clock
    // gives several writes one instant), then unique across processes.
    const sequence = String(++this.auditSequence).padStart(12, '0');
    const id = `${String(at).padStart(17, '0')}-${sequence}-${randomUUID().slice(0, 8)}`;
    return { id, at, actor, action, entity, before, after };
  }

  private putSymbol(symbol: SymbolRecord): void {
    const others = this.snapshot.symbols.filter((s) => s.id !== symbol.id);
    this.applyLocal(
      snapshotOf(
        [...others, symbol].sort((a, b) => (a.ticker < b.ticker ? -1 : 1)),
        this.snapshot.changes,
        this.snapshot.actions,
      ),
    );
  }

  private resolve(ticker: string): SymbolRecord | undefined {
    const current = this.snapshot.byTicker.get(ticker);
    if (current) return current;
    // A former ticker: the symbol that had it most recently.
    const ids = this.snapshot.formerTickers.get(ticker);
    if (!ids) return undefined;
    let best: { symbol: SymbolRecord; until: number } | undefined;
    for (const id of ids) {
      const symbol = this.snapshot.byId.get(id);
      if (!symbol) continue;
      for (const segment of this.segments(symbol)) {
        if (segment.ticker === ticker && (!best || segment.to > best.until)) {
          best = { symbol, until: segment.to };
        }
      }
    }
    return best?.symbol;
  }

  private require(ticker: string): SymbolRecord {
    const normalized = normalizeTicker(ticker);
    const symbol = this.resolve(normalized);
    if (!symbol) {
      throw new AlphalakeError('NOT_FOUND', `unknown symbol ${JSON.stringify(normalized)}`, {
        symbol: normalized,
      });
    }
    return symbol;
  }

  private segments(symbol: SymbolRecord): TickerSegment[] {
    const changes = this.snapshot.changes.filter((c) => c.symbolId === symbol.id);
    if (changes.length === 0) return [{ ticker: symbol.ticker, from: TIME_MIN, to: TIME_MAX }];
    const segments: TickerSegment[] = [];
    let from = TIME_MIN;
    for (const change of changes) {
      const to = startOfDate(change.effectiveDate);
      segments.push({ ticker: change.fromTicker, from, to });
      from = to;
    }
    segments.push({ ticker: symbol.ticker, from, to: TIME_MAX });
    return segments;
  }

  private view(symbol: SymbolRecord): SymbolView {
    return { ...symbol, changes: this.snapshot.changes.filter((c) => c.symbolId === symbol.id) };
  }
}

function snapshotOf(
  symbols: readonly SymbolRecord[],
  changes: readonly SymbolChangeRecord[],
  actions: readonly CorporateActionRecord[],
): Snapshot {
  const sortedChanges = [...changes].sort((a, b) =>
    a.effectiveDate < b.effectiveDate ? -1 : a.effectiveDate > b.effectiveDate ? 1 : 0,
  );
  const sortedActions = [...actions].sort((a, b) =>
    a.exDate < b.exDate ? -1 : a.exDate > b.exDate ? 1 : a.id < b.id ? -1 : 1,
  );
  const formerTickers = new Map<string, string[]>();
  for (const change of sortedChanges) {
    const ids = formerTickers.get(change.fromTicker) ?? [];
    if (!ids.includes(change.symbolId)) ids.push(change.symbolId);
    formerTickers.set(change.fromTicker, ids);
  }
  const revision = createHash('sha256')
    .update(JSON.stringify([symbols, sortedChanges, sortedActions]))
    .digest('hex')
    .slice(0, 16);
  return {
    symbols,
    changes: sortedChanges,
    actions: sortedActions,
    byTicker: new Map(symbols.map((s) => [s.ticker, s])),
    byId: new Map(symbols.map((s) => [s.id, s])),
    formerTickers,
    revision,
  };
}

function tickerAt(segments: readonly TickerSegment[], at: number): string | undefined {
  return segments.find((s) => at >= s.from && at < s.to)?.ticker;
}

function infoOf(symbol: SymbolRecord): SymbolInfo {
  return {
    symbol: symbol.ticker,
    name: symbol.name,
    exchange: symbol.exchange,
    currency: symbol.currency,
    active: symbol.status === 'ACTIVE',
  };
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

// Validation: every field is checked and every problem named, field by field.

/** ISO 4217 codes the runtime knows (ECMA-402 `Intl.supportedValuesOf('currency')`). */
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
/** ISO 10383 MICs are four characters, letters and digits (the registry is not bundled). */
const MIC = /^[A-Z0-9]{4}$/;
const TICKER = /^[A-Z][A-Z0-9.-]{0,14}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function normalizeTicker(ticker: string): string {
  return ticker.trim().toUpperCase();
}

function checkTicker(ticker: string): string {
  const normalized = normalizeTicker(ticker);
  if (!TICKER.test(normalized)) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `ticker: ${JSON.stringify(ticker)} is not a ticker (a letter, then up to 14 letters, digits, '.' or '-')`,
      { field: 'ticker' },
    );
  }
  return normalized;
}

function checkDate(field: string, date: string): string {
  const ok = DATE.test(date) && new Date(`${date}T00:00:00Z`).toISOString().startsWith(date);
  if (!ok) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `${field}: ${JSON.stringify(date)} is not a YYYY-MM-DD date`,
      {
        field,
      },
    );
  }
  return date;
}

type CheckedFields = {
  ticker?: string;
  name?: string;
  exchange?: string;
  assetClass?: string;
  currency?: string;
  sector?: string | null;
  industry?: string | null;
  listedDate?: string | null;
  delistedDate?: string | null;
  status?: string;
};

/** Checks each given field; one BAD_USER_INPUT names every field that is wrong. */
function checkSymbolFields(
  input: SymbolPatch & { ticker?: string },
  creating: boolean,
): CheckedFields {
  const problems: { field: string; message: string }[] = [];
  const out: CheckedFields = {};
  const attempt = (field: string, run: () => void) => {
    try {
      run();
    } catch (error) {
      problems.push({ field, message: (error as Error).message.replace(/^\w+: /, '') });
    }
  };
  const fail = (message: string): never => {
    throw new Error(message);
  };
  if (creating || input.ticker !== undefined) {
    attempt('ticker', () => (out.ticker = checkTicker(input.ticker ?? '')));
  }
  if (creating || input.name !== undefined) {
    attempt('name', () => {
      const name = (input.name ?? '').trim();
      if (name === '' || name.length > 200) fail('must be 1 to 200 characters');
      out.name = name;
    });
  }
  if (creating || input.exchange !== undefined) {
    attempt('exchange', () => {
      const mic = (input.exchange ?? '').trim().toUpperCase();
      if (!MIC.test(mic))
        fail(
          `${JSON.stringify(input.exchange)} is not an ISO 10383 MIC (four letters or digits, e.g. XNAS)`,
        );
      out.exchange = mic;
    });
  }
  if (input.assetClass !== undefined) {
    attempt('assetClass', () => {
      const value = input.assetClass!.trim().toUpperCase();
      if (!(ASSET_CLASSES as readonly string[]).includes(value))
        fail(`must be one of ${ASSET_CLASSES.join(', ')}`);
      out.assetClass = value;
    });
  }
  if (input.currency !== undefined) {
    attempt('currency', () => {
      const value = input.currency!.trim().toUpperCase();
      if (!CURRENCIES.has(value))
        fail(`${JSON.stringify(input.currency)} is not an ISO 4217 currency code`);
      out.currency = value;
    });
  }
  for (const field of ['sector', 'industry'] as const) {
    const value = input[field];
    if (value !== undefined) {
      attempt(field, () => {
        const text = value === null ? '' : value.trim();
        if (text.length > 200) fail('must be at most 200 characters');
        out[field] = text === '' ? null : text;
      });
    }
  }
  for (const field of ['listedDate', 'delistedDate'] as const) {
    const value = input[field];
    if (value !== undefined) {
      attempt(
        field,
        () => (out[field] = value === null || value === '' ? null : checkDate(field, value)),
      );
    }
  }
  if (input.status !== undefined) {
    attempt('status', () => {
      const value = input.status!.trim().toUpperCase();
      if (!(SYMBOL_STATUSES as readonly string[]).includes(value))
        fail(`must be one of ${SYMBOL_STATUSES.join(', ')}`);
      out.status = value;
    });
  }
  if (problems.length > 0) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `invalid symbol: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      { field: problems[0]!.field, fields: problems.map((p) => p.field).join(',') },
    );
  }
  return out;
}

function checkListing(symbol: SymbolRecord): void {
  if (symbol.listedDate && symbol.delistedDate && symbol.delistedDate <= symbol.listedDate) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `invalid symbol: delistedDate: ${symbol.delistedDate} must be after listedDate ${symbol.listedDate}`,
      { field: 'delistedDate' },
    );
  }
}

function checkAction(input: CorporateActionInput, symbol: SymbolRecord): CorporateActionRecord {
  const problems: string[] = [];
  const fields: string[] = [];
  const problem = (field: string, message: string) => {
    fields.push(field);
    problems.push(`${field}: ${message}`);
  };
  const kind = input.kind.trim().toLowerCase();
  if (kind !== 'split' && kind !== 'dividend') problem('kind', 'must be split or dividend');
  let exDate = input.exDate;
  try {
    exDate = checkDate('exDate', input.exDate);
  } catch (error) {
    problem('exDate', (error as Error).message.replace(/^\w+: /, ''));
  }
  const source = (input.source ?? 'manual').trim() || 'manual';
  const positive = (field: string, value: number | null | undefined, integer: boolean) => {
    if (
      value === undefined ||
      value === null ||
      !Number.isFinite(value) ||
      value <= 0 ||
      (integer && !Number.isInteger(value))
    ) {
      problem(field, `must be a positive ${integer ? 'integer' : 'number'}`);
      return 0;
    }
    return value;
  };
  let action: CorporateActionRecord | undefined;
  if (kind === 'split') {
    const splitFrom = positive('splitFrom', input.splitFrom, true);
    const splitTo = positive('splitTo', input.splitTo, true);
    if (splitFrom > 0 && splitFrom === splitTo) problem('splitTo', 'must differ from splitFrom');
    action = {
      id: `${symbol.id}:split:${exDate}`,
      symbolId: symbol.id,
      kind,
      symbol: symbol.ticker,
      exDate,
      splitFrom,
      splitTo,
      source,
    };
  } else if (kind === 'dividend') {
    const cashAmount = positive('cashAmount', input.cashAmount, false);
    const currency = (input.currency ?? symbol.currency).trim().toUpperCase();
    if (!CURRENCIES.has(currency))
      problem('currency', `${JSON.stringify(input.currency)} is not an ISO 4217 currency code`);
    action = {
      id: `${symbol.id}:dividend:${exDate}`,
      symbolId: symbol.id,
      kind,
      symbol: symbol.ticker,
      exDate,
      cashAmount,
      currency,
      source,
    };
  }
  if (problems.length > 0 || !action) {
    throw new AlphalakeError('BAD_USER_INPUT', `invalid corporate action: ${problems.join('; ')}`, {
      field: fields[0] ?? 'kind',
      fields: fields.join(','),
    });
  }
  return action;
}
