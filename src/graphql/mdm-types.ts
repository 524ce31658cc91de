import { GraphQLJSON, GraphQLSafeInt } from 'graphql-scalars';
import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type {
  AuditRecord,
  CorporateActionRecord,
  ImportResult,
  SymbolChangeRecord,
  SymbolView,
} from '../mdm/index.js';
import { DateTimeScalar } from './scalars.js';

export enum SymbolStatusEnum {
  ACTIVE = 'ACTIVE',
  DELISTED = 'DELISTED',
  PENDING = 'PENDING',
}

registerEnumType(SymbolStatusEnum, {
  name: 'SymbolStatus',
  valuesConfig: {
    ACTIVE: { description: 'Listed and trading.' },
    DELISTED: { description: 'No longer trading; its history stays queryable.' },
    PENDING: {
      description:
        'Created by ingest for an unknown ticker (MDM_UNKNOWN_SYMBOLS=pending), not yet reviewed.',
    },
  },
});

export enum CorporateActionKindEnum {
  SPLIT = 'split',
  DIVIDEND = 'dividend',
}

registerEnumType(CorporateActionKindEnum, { name: 'CorporateActionKind' });

@ObjectType('SymbolChange', { description: 'A ticker change: `toTicker` from `effectiveDate` on.' })
export class SymbolChangeType {
  @Field()
  fromTicker!: string;

  @Field()
  toTicker!: string;

  @Field({ description: 'YYYY-MM-DD, the first session under `toTicker`.' })
  effectiveDate!: string;

  static from(change: SymbolChangeRecord): SymbolChangeType {
    return Object.assign(new SymbolChangeType(), change);
  }
}

@ObjectType('Symbol', { description: 'A security known to master data.' })
export class SymbolType {
  @Field({ description: 'The ticker (as of the date asked for, else now); the same as `ticker`.' })
  symbol!: string;

  @Field()
  ticker!: string;

  @Field({ description: 'Stable identity of the security across ticker changes.' })
  id!: string;

  @Field()
  name!: string;

  @Field({ description: 'Primary listing exchange (ISO 10383 MIC).' })
  exchange!: string;

  @Field({ description: 'EQUITY, ETF, ADR, FUND, INDEX, CRYPTO or OTHER.' })
  assetClass!: string;

  @Field({ description: 'ISO 4217 currency code.' })
  currency!: string;

  @Field(() => String, { nullable: true })
  sector!: string | null;

  @Field(() => String, { nullable: true })
  industry!: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD, the first session.' })
  listedDate!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'YYYY-MM-DD, the first session it no longer trades.',
  })
  delistedDate!: string | null;

  @Field(() => SymbolStatusEnum)
  status!: SymbolStatusEnum;

  @Field({ description: 'True when the status is ACTIVE.' })
  active!: boolean;

  @Field(() => Int, {
    description: 'Optimistic-concurrency token: pass it to an update; a stale one gets CONFLICT.',
  })
  version!: number;

  @Field(() => DateTimeScalar)
  updatedAt!: number;

  @Field(() => [SymbolChangeType], { description: 'Its ticker changes, oldest first.' })
  changes!: SymbolChangeType[];

  static from(view: SymbolView): SymbolType {
    return Object.assign(new SymbolType(), {
      ...view,
      symbol: view.ticker,
      status: view.status as SymbolStatusEnum,
      active: view.status === 'ACTIVE',
      changes: view.changes.map(SymbolChangeType.from),
    });
  }
}

@ObjectType('CorporateAction', { description: 'A split or cash dividend on its ex-date.' })
export class CorporateActionType {
  @Field({ description: '`<symbol id>:<kind>:<exDate>`.' })
  id!: string;

  @Field({ description: 'The ticker it was entered under.' })
  symbol!: string;

  @Field(() => CorporateActionKindEnum)
  kind!: CorporateActionKindEnum;

  @Field({ description: 'YYYY-MM-DD, the first session on the new basis.' })
  exDate!: string;

  @Field(() => Int, { nullable: true, description: 'Split: old shares…' })
  splitFrom?: number | undefined;

  @Field(() => Int, { nullable: true, description: '…for this many new (2-for-1: 1, 2).' })
  splitTo?: number | undefined;

  @Field(() => Float, { nullable: true, description: 'Dividend: cash per share.' })
  cashAmount?: number | undefined;

  @Field(() => String, { nullable: true })
  currency?: string | undefined;

  @Field()
  source!: string;

  static from(action: CorporateActionRecord): CorporateActionType {
    return Object.assign(new CorporateActionType(), {
      ...action,
      kind: action.kind as CorporateActionKindEnum,
    });
  }
}

@ObjectType('AuditEntry', { description: 'One change to master data.' })
export class AuditEntryType {
  @Field()
  id!: string;

  @Field(() => DateTimeScalar)
  at!: number;

  @Field(() => GraphQLSafeInt, { description: '`at` as epoch microseconds.' })
  atMicros!: number;

  @Field({ description: 'Who made it (`anonymous` until requests carry a principal).' })
  actor!: string;

  @Field({
    description:
      'symbol.create, symbol.update, symbol.delist, symbol.rename, corporateAction.add, corporateAction.remove.',
  })
  action!: string;

  @Field({ description: 'The id of the symbol or corporate action.' })
  entity!: string;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'The record before (null on creation).',
  })
  before!: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The record after (null on removal).' })
  after!: unknown;

  static from(record: AuditRecord): AuditEntryType {
    return Object.assign(new AuditEntryType(), { ...record, atMicros: record.at });
  }
}

@ObjectType('ImportRow', { description: 'The outcome of one CSV row.' })
export class ImportRowType {
  @Field(() => Int, { description: 'Its line in the file (the header is line 1).' })
  line!: number;

  @Field({ description: 'The ticker (symbols) or `TICKER kind exDate` (actions) it names.' })
  key!: string;

  @Field({ description: 'CREATED, UPDATED, UNCHANGED or ERROR.' })
  status!: string;

  @Field(() => String, { nullable: true, description: 'The error code of an ERROR row.' })
  code?: string | undefined;

  @Field(() => String, { nullable: true })
  error?: string | undefined;
}

@ObjectType('ImportResult', { description: 'What a CSV import did, row by row.' })
export class ImportResultType {
  @Field(() => [ImportRowType])
  results!: ImportRowType[];

  @Field(() => Int)
  errors!: number;

  static from(result: ImportResult): ImportResultType {
    return Object.assign(new ImportResultType(), {
      results: result.results.map((r) => Object.assign(new ImportRowType(), r)),
      errors: result.results.filter((r) => r.status === 'ERROR').length,
    });
  }
}

@InputType('SymbolInput')
export class SymbolInputType {
  @Field()
  ticker!: string;

  @Field()
  name!: string;

  @Field({ description: 'ISO 10383 MIC, e.g. XNAS.' })
  exchange!: string;

  @Field({ nullable: true, description: 'Default EQUITY.' })
  assetClass?: string;

  @Field({ nullable: true, description: 'ISO 4217; default USD.' })
  currency?: string;

  @Field(() => String, { nullable: true })
  sector?: string | null;

  @Field(() => String, { nullable: true })
  industry?: string | null;

  @Field(() => String, { nullable: true })
  listedDate?: string | null;

  @Field(() => String, { nullable: true })
  delistedDate?: string | null;

  @Field(() => SymbolStatusEnum, { nullable: true })
  status?: SymbolStatusEnum;
}

@InputType('SymbolPatch', { description: 'The fields to change; absent ones stay.' })
export class SymbolPatchType {
  @Field({ nullable: true })
  name?: string;

  @Field({ nullable: true })
  exchange?: string;

  @Field({ nullable: true })
  assetClass?: string;

  @Field({ nullable: true })
  currency?: string;

  @Field(() => String, { nullable: true })
  sector?: string | null;

  @Field(() => String, { nullable: true })
  industry?: string | null;

  @Field(() => String, { nullable: true })
  listedDate?: string | null;

  @Field(() => String, { nullable: true })
  delistedDate?: string | null;

  @Field(() => SymbolStatusEnum, { nullable: true })
  status?: SymbolStatusEnum;
}

@InputType('CorporateActionInput')
export class CorporateActionInputType {
  @Field()
  symbol!: string;

  @Field(() => CorporateActionKindEnum)
  kind!: CorporateActionKindEnum;

  @Field({ description: 'YYYY-MM-DD.' })
  exDate!: string;

  @Field(() => Int, { nullable: true })
  splitFrom?: number;

  @Field(() => Int, { nullable: true })
  splitTo?: number;

  @Field(() => Float, { nullable: true })
  cashAmount?: number;

  @Field({ nullable: true, description: "Default: the symbol's currency." })
  currency?: string;

  @Field({ nullable: true, description: 'Default: manual.' })
  source?: string;
}
