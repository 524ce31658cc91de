import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import {
  exportCorporateActionsCsv,
  exportSymbolsCsv,
  importCorporateActionsCsv,
  importSymbolsCsv,
} from '../mdm/index.js';
import type { ApiContext } from './context.js';
import {
  AuditEntryType,
  CorporateActionInputType,
  CorporateActionType,
  ImportResultType,
  SymbolInputType,
  SymbolPatchType,
  SymbolType,
} from './mdm-types.js';
import { DateTimeScalar } from './scalars.js';

/** Who a change is recorded as: the request's principal (`anonymous` with auth off). */
function actorOf(context: ApiContext): string {
  return context.actor;
}

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
    @Arg('ticker') ticker: string,
    @Arg('asOf', () => String, { nullable: true }) asOf?: string | null,
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
    @Arg('asOf', () => String, { nullable: true }) asOf?: string | null,
  ): SymbolType[] {
    return services.masterData.symbols(asOf ?? undefined).map(SymbolType.from);
  }

  @Authorized('viewer')
  @Query(() => [CorporateActionType], {
    description: "A symbol's splits and cash dividends by ex-date (through ticker changes).",
  })
  corporateActions(
    @Ctx() { services }: ApiContext,
    @Arg('symbol') symbol: string,
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
    @Arg('entity', () => String, { nullable: true }) entity?: string | null,
    @Arg('actor', () => String, { nullable: true }) actor?: string | null,
    @Arg('from', () => DateTimeScalar, { nullable: true }) from?: number | null,
    @Arg('limit', () => Int, { defaultValue: 1000 }) limit?: number,
  ): Promise<AuditEntryType[]> {
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
    @Arg('input', () => SymbolInputType) input: SymbolInputType,
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
    @Arg('ticker') ticker: string,
    @Arg('version', () => Int) version: number,
    @Arg('input', () => SymbolPatchType) input: SymbolPatchType,
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
    @Arg('ticker') ticker: string,
    @Arg('version', () => Int) version: number,
    @Arg('date') date: string,
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
    @Arg('ticker') ticker: string,
    @Arg('version', () => Int) version: number,
    @Arg('newTicker') newTicker: string,
    @Arg('effectiveDate') effectiveDate: string,
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
    @Arg('input', () => CorporateActionInputType) input: CorporateActionInputType,
  ): Promise<CorporateActionType> {
    const action = await context.services.masterData.addCorporateAction(input, actorOf(context));
    return CorporateActionType.from(action);
  }

  @Authorized('admin')
  @Mutation(() => CorporateActionType, { description: 'Removes a corporate action; returns it.' })
  async removeCorporateAction(
    @Ctx() context: ApiContext,
    @Arg('id') id: string,
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
    @Arg('csv') csv: string,
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
    @Arg('csv') csv: string,
  ): Promise<ImportResultType> {
    return ImportResultType.from(
      await importCorporateActionsCsv(context.services.masterData, csv, actorOf(context)),
    );
  }
}
