import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import {
  exportCorporateActionsCsv,
  exportSymbolsCsv,
  importCorporateActionsCsv,
  importSymbolsCsv,
} from '../../mdm/index.js';
import type { ApiContext } from '../transport/context.js';
import {
  AuditEntryType,
  CorporateActionInputType,
  CorporateActionType,
  ImportResultType,
  SymbolInputType,
  SymbolPatchType,
  SymbolType,
} from '../types/mdm-types.js';
import { DateTimeScalar } from '../types/scalars.js';

/** Who a change is recorded as: the request's principal (`anonymous` with auth off). */
function actorOf(context: ApiContext): string {
  return context.actor;
}

/** The `csv` argument of both CSV imports. */
const CSV_ARGUMENT = {
  description:
    'RFC 4180 text with a header row; unknown or missing header columns, or text that is not CSV, refuse the whole file with BAD_USER_INPUT.',
} as const;
/**
 * Master data (docs/mdm.md): symbols with their ticker history, corporate actions, the
 * point-in-time universe, CSV import and export, and the audit log. Viewers read; admins
 * change master data and read the audit log.
 */
@Resolver()
export class MasterDataResolver {
  @Authorized('viewer')
  @Query(() => SymbolType, {
    nullable: true,
    description:
      'The symbol a ticker names, through ticker changes (`FB` finds META). With `asOf` (YYYY-MM-DD), the one that traded under it on that date.',
  })
  symbol(
    @Ctx() { services }: ApiContext,
    @Arg('ticker', {
      description:
        'The ticker, current or former (case-insensitive, e.g. `FB` or `META`); null when no symbol matches.',
    })
    ticker: string,
    @Arg('asOf', () => String, {
      nullable: true,
      description:
        'YYYY-MM-DD: the symbol listed on that date that traded under `ticker` then; absent: the one trading under it now, else the one that had it last. A malformed date is BAD_USER_INPUT.',
    })
    asOf?: string | null,
  ): SymbolType | null {
    const view = services.masterData.symbol(ticker, asOf ?? undefined);
    return view ? SymbolType.from(view) : null;
  }

  @Authorized('viewer')
  @Query(() => [SymbolType], {
    description:
      'Symbols known to master data. With `asOf` (YYYY-MM-DD), the point-in-time universe: those listed on that date, including since-delisted ones, under the ticker they had then.',
  })
  symbols(
    @Ctx() { services }: ApiContext,
    @Arg('asOf', () => String, {
      nullable: true,
      description:
        'YYYY-MM-DD: the symbols listed on that date (PENDING ones left out), each under its ticker then, by ticker; absent: every symbol under its current ticker. A malformed date is BAD_USER_INPUT.',
    })
    asOf?: string | null,
  ): SymbolType[] {
    return services.masterData.symbols(asOf ?? undefined).map(SymbolType.from);
  }

  @Authorized('viewer')
  @Query(() => [CorporateActionType], {
    description: "A symbol's splits and cash dividends by ex-date (through ticker changes).",
  })
  corporateActions(
    @Ctx() { services }: ApiContext,
    @Arg('symbol', {
      description:
        'A ticker, current or former (case-insensitive); NOT_FOUND when no symbol ever had it.',
    })
    symbol: string,
  ): CorporateActionType[] {
    return services.masterData.corporateActions(symbol).map(CorporateActionType.from);
  }

  @Authorized('viewer')
  @Query(() => String, { description: 'Every symbol as CSV (the columns an import takes).' })
  symbolsCsv(@Ctx() { services }: ApiContext): string {
    return exportSymbolsCsv(services.masterData);
  }

  @Authorized('viewer')
  @Query(() => String, {
    description: 'Every corporate action as CSV (the columns an import takes).',
  })
  corporateActionsCsv(@Ctx() { services }: ApiContext): string {
    return exportCorporateActionsCsv(services.masterData);
  }

  @Authorized('admin')
  @Query(() => [AuditEntryType], {
    description: 'The audit log of master data, oldest first (append-only). Admins only.',
  })
  async auditLog(
    @Ctx() { services }: ApiContext,
    @Arg('entity', () => String, {
      nullable: true,
      description:
        'Only the changes to this record: a symbol id (`Symbol.id`, not its ticker), a corporate action id, a user name or an API key id.',
    })
    entity?: string | null,
    @Arg('actor', () => String, {
      nullable: true,
      description: 'Only the changes by this actor, exactly as `AuditEntry.actor` spells it.',
    })
    actor?: string | null,
    @Arg('from', () => DateTimeScalar, {
      nullable: true,
      description: 'Only the changes at or after this instant.',
    })
    from?: number | null,
    @Arg('limit', () => Int, {
      defaultValue: 1000,
      description: 'At most this many entries, the oldest that match; below 1 is BAD_USER_INPUT.',
    })
    limit?: number,
  ): Promise<AuditEntryType[]> {
    // Enqueue records still in a job's outbox (a drain that failed) are in the answer.
    await services.jobs?.drainAudit();
    const records = await services.masterData.auditLog({
      entity: entity ?? undefined,
      actor: actor ?? undefined,
      from: from ?? undefined,
      limit,
    });
    return records.map(AuditEntryType.from);
  }

  @Authorized('admin')
  @Mutation(() => SymbolType, { description: 'A new symbol (CONFLICT when the ticker is taken).' })
  async createSymbol(
    @Ctx() context: ApiContext,
    @Arg('input', () => SymbolInputType, {
      description: 'The new symbol; a bad field is BAD_USER_INPUT naming every bad field.',
    })
    input: SymbolInputType,
  ): Promise<SymbolType> {
    const { masterData } = context.services;
    const created = await masterData.createSymbol(input, actorOf(context));
    return SymbolType.from(masterData.symbol(created.ticker) ?? { ...created, changes: [] });
  }

  @Authorized('admin')
  @Mutation(() => SymbolType, {
    description:
      'Changes fields of a symbol if its version is still `version`; otherwise CONFLICT (someone else changed it first: read it again).',
  })
  async updateSymbol(
    @Ctx() context: ApiContext,
    @Arg('ticker', {
      description:
        'The ticker, current or former (case-insensitive); NOT_FOUND when no symbol ever had it.',
    })
    ticker: string,
    @Arg('version', () => Int, {
      description:
        'The `Symbol.version` you read; CONFLICT when it has changed since (read it again).',
    })
    version: number,
    @Arg('input', () => SymbolPatchType, {
      description: 'The fields to change; a bad field is BAD_USER_INPUT.',
    })
    input: SymbolPatchType,
  ): Promise<SymbolType> {
    const { masterData } = context.services;
    const updated = await masterData.updateSymbol(ticker, version, input, actorOf(context));
    return SymbolType.from(masterData.symbol(updated.ticker) ?? { ...updated, changes: [] });
  }

  @Authorized('admin')
  @Mutation(() => SymbolType, {
    description: 'Marks a symbol DELISTED from `date` (YYYY-MM-DD) on.',
  })
  async delistSymbol(
    @Ctx() context: ApiContext,
    @Arg('ticker', {
      description:
        'The ticker, current or former (case-insensitive); NOT_FOUND when no symbol ever had it.',
    })
    ticker: string,
    @Arg('version', () => Int, {
      description:
        'The `Symbol.version` you read; CONFLICT when it has changed since (read it again).',
    })
    version: number,
    @Arg('date', {
      description:
        'YYYY-MM-DD, the first session it no longer trades (after `listedDate`); becomes `delistedDate`.',
    })
    date: string,
  ): Promise<SymbolType> {
    const { masterData } = context.services;
    const updated = await masterData.delistSymbol(ticker, version, date, actorOf(context));
    return SymbolType.from(masterData.symbol(updated.ticker) ?? { ...updated, changes: [] });
  }

  @Authorized('admin')
  @Mutation(() => SymbolType, {
    description:
      'A ticker change: the symbol trades as `newTicker` from `effectiveDate` (YYYY-MM-DD) on; queries by either ticker find it, and its bars join across the change.',
  })
  async renameSymbol(
    @Ctx() context: ApiContext,
    @Arg('ticker', {
      description:
        'The ticker, current or former (case-insensitive); NOT_FOUND when no symbol ever had it.',
    })
    ticker: string,
    @Arg('version', () => Int, {
      description:
        'The `Symbol.version` you read; CONFLICT when it has changed since (read it again).',
    })
    version: number,
    @Arg('newTicker', {
      description:
        "The new ticker (a letter, then up to 14 letters, digits, `.` or `-`; upper-cased); CONFLICT when another symbol has it now, BAD_USER_INPUT when it is the symbol's ticker already.",
    })
    newTicker: string,
    @Arg('effectiveDate', {
      description:
        "YYYY-MM-DD, the first session under `newTicker` (from 00:00 UTC); after the symbol's last ticker change, else BAD_USER_INPUT.",
    })
    effectiveDate: string,
  ): Promise<SymbolType> {
    const { masterData } = context.services;
    const renamed = await masterData.renameSymbol(
      ticker,
      version,
      newTicker,
      effectiveDate,
      actorOf(context),
    );
    return SymbolType.from(masterData.symbol(renamed.ticker) ?? { ...renamed, changes: [] });
  }

  @Authorized('admin')
  @Mutation(() => CorporateActionType, {
    description:
      'Adds a split or cash dividend; adjusted bars and trades before its ex-date change at once (CONFLICT when one of that kind is on that date).',
  })
  async addCorporateAction(
    @Ctx() context: ApiContext,
    @Arg('input', () => CorporateActionInputType, {
      description:
        'The action; NOT_FOUND for an unknown symbol, BAD_USER_INPUT naming every bad field.',
    })
    input: CorporateActionInputType,
  ): Promise<CorporateActionType> {
    const action = await context.services.masterData.addCorporateAction(input, actorOf(context));
    return CorporateActionType.from(action);
  }

  @Authorized('admin')
  @Mutation(() => CorporateActionType, { description: 'Removes a corporate action; returns it.' })
  async removeCorporateAction(
    @Ctx() context: ApiContext,
    @Arg('id', {
      description: 'Its `CorporateAction.id`; NOT_FOUND when there is none.',
    })
    id: string,
  ): Promise<CorporateActionType> {
    const action = await context.services.masterData.removeCorporateAction(id, actorOf(context));
    return CorporateActionType.from(action);
  }

  @Authorized('admin')
  @Mutation(() => ImportResultType, {
    description:
      'Creates or updates the symbols of a CSV file (header: ticker,name,exchange[,assetClass,currency,sector,industry,listedDate,delistedDate,status]), row by row, each with its outcome.',
  })
  async importSymbolsCsv(
    @Ctx() context: ApiContext,
    @Arg('csv', CSV_ARGUMENT)
    csv: string,
  ): Promise<ImportResultType> {
    return ImportResultType.from(
      await importSymbolsCsv(context.services.masterData, csv, actorOf(context)),
    );
  }

  @Authorized('admin')
  @Mutation(() => ImportResultType, {
    description:
      'Adds the corporate actions of a CSV file (header: symbol,kind,exDate[,splitFrom,splitTo,cashAmount,currency,source]), row by row, each with its outcome.',
  })
  async importCorporateActionsCsv(
    @Ctx() context: ApiContext,
    @Arg('csv', CSV_ARGUMENT)
    csv: string,
  ): Promise<ImportResultType> {
    return ImportResultType.from(
      await importCorporateActionsCsv(context.services.masterData, csv, actorOf(context)),
    );
  }
}
