import { GraphQLJSON, GraphQLSafeInt } from 'graphql-scalars';
import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type {
  AuditRecord,
  CorporateActionRecord,
  ImportResult,
  SymbolChangeRecord,
  SymbolView,
} from '../../mdm/index.js';
import { DateTimeScalar } from './scalars.js';

export enum SymbolStatusEnum {
  ACTIVE = 'ACTIVE',
  DELISTED = 'DELISTED',
  PENDING = 'PENDING',
}

registerEnumType(SymbolStatusEnum, {
  name: 'SymbolStatus',
  description: 'Where a symbol stands in its listing life.',
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

registerEnumType(CorporateActionKindEnum, {
  name: 'CorporateActionKind',
  description: 'What a corporate action does to the shares (`split` or `dividend` in CSV).',
  valuesConfig: {
    SPLIT: {
      description:
        'A stock split: `splitFrom` old shares become `splitTo` new ones; earlier prices × splitFrom/splitTo, volumes × splitTo/splitFrom.',
    },
    DIVIDEND: {
      description:
        'A cash dividend of `cashAmount` per share: earlier prices × (1 − cashAmount / the last close before the ex-date); volumes unchanged.',
    },
  },
});

@ObjectType('SymbolChange', { description: 'A ticker change: `toTicker` from `effectiveDate` on.' })
export class SymbolChangeType {
  @Field({ description: 'The ticker until `effectiveDate`.' })
  fromTicker!: string;

  @Field({ description: 'The ticker from `effectiveDate` on.' })
  toTicker!: string;

  @Field({ description: 'YYYY-MM-DD, the first session under `toTicker`.' })
  effectiveDate!: string;

  static from(change: SymbolChangeRecord): SymbolChangeType {
    return Object.assign(new SymbolChangeType(), change);
  }
}

@ObjectType('Symbol', { description: 'A security known to master data.' })
export class SymbolType {
  @Field({ description: 'The same as `ticker`.' })
  symbol!: string;

  @Field({
    description:
      'Its current ticker; in `symbols(asOf:)`, the one it had on that date (a letter, then up to 14 letters, digits, `.` or `-`).',
  })
  ticker!: string;

  @Field({ description: 'Stable identity of the security across ticker changes.' })
  id!: string;

  @Field({ description: "The security's name (1 to 200 characters)." })
  name!: string;

  @Field({ description: 'Primary listing exchange (ISO 10383 MIC).' })
  exchange!: string;

  @Field({ description: 'EQUITY, ETF, ADR, FUND, INDEX, CRYPTO or OTHER.' })
  assetClass!: string;

  @Field({ description: 'ISO 4217 currency code.' })
  currency!: string;

  @Field(() => String, { nullable: true, description: 'Free-text sector, if known.' })
  sector!: string | null;

  @Field(() => String, { nullable: true, description: 'Free-text industry, if known.' })
  industry!: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD, the first session.' })
  listedDate!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'YYYY-MM-DD, the first session it no longer trades.',
  })
  delistedDate!: string | null;

  @Field(() => SymbolStatusEnum, { description: 'ACTIVE, DELISTED or PENDING.' })
  status!: SymbolStatusEnum;

  @Field({ description: 'True when the status is ACTIVE.' })
  active!: boolean;

  @Field(() => Int, {
    description: 'Optimistic-concurrency token: pass it to an update; a stale one gets CONFLICT.',
  })
  version!: number;

  @Field(() => DateTimeScalar, { description: 'When it last changed (creation included).' })
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

  @Field(() => CorporateActionKindEnum, { description: 'SPLIT or DIVIDEND.' })
  kind!: CorporateActionKindEnum;

  @Field({ description: 'YYYY-MM-DD, the first session on the new basis.' })
  exDate!: string;

  @Field(() => Int, { nullable: true, description: 'Split: old shares…' })
  splitFrom?: number | undefined;

  @Field(() => Int, { nullable: true, description: '…for this many new (2-for-1: 1, 2).' })
  splitTo?: number | undefined;

  @Field(() => Float, { nullable: true, description: 'Dividend: cash per share.' })
  cashAmount?: number | undefined;

  @Field(() => String, {
    nullable: true,
    description: 'Dividend: ISO 4217 currency of `cashAmount`; null for a split.',
  })
  currency?: string | undefined;

  @Field({
    description:
      'Where it came from: `manual` (the default for the mutation and CSV) or a vendor name.',
  })
  source!: string;

  static from(action: CorporateActionRecord): CorporateActionType {
    return Object.assign(new CorporateActionType(), {
      ...action,
      kind: action.kind as CorporateActionKindEnum,
    });
  }
}

@ObjectType('AuditEntry', {
  description: 'One change to master data, or to users and API keys (append-only).',
})
export class AuditEntryType {
  @Field({
    description:
      'Unique: the zero-padded epoch µs of `at`, a per-process sequence and a random suffix.',
  })
  id!: string;

  @Field(() => DateTimeScalar, { description: 'When the change was made.' })
  at!: number;

  @Field(() => GraphQLSafeInt, { description: '`at` as epoch microseconds.' })
  atMicros!: number;

  @Field({
    description:
      'Who made it: a user (`alice`), an API key (`alice (key 0f3a…)`), `anonymous (auth off)`, `cli:<os user>`, `system` (seeded symbols), `ingest:<source>` (PENDING symbols) or `job:<id>` (a job, e.g. `mdm.refresh`).',
  })
  actor!: string;

  @Field({
    description:
      'symbol.create, symbol.update, symbol.delist, symbol.rename, corporateAction.add, corporateAction.remove, user.add, user.set-role, key.create, key.revoke, job.enqueue or job.cancel.',
  })
  action!: string;

  @Field({
    description:
      'The id of the symbol or corporate action, the user name, the API key id, or the job id.',
  })
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

  @Field(() => String, { nullable: true, description: 'The error message of an ERROR row.' })
  error?: string | undefined;
}

@ObjectType('ImportResult', { description: 'What a CSV import did, row by row.' })
export class ImportResultType {
  @Field(() => [ImportRowType], { description: 'One per data row, in file order.' })
  results!: ImportRowType[];

  @Field(() => Int, {
    description: 'How many rows failed (status ERROR); the others were applied.',
  })
  errors!: number;

  static from(result: ImportResult): ImportResultType {
    return Object.assign(new ImportResultType(), {
      results: result.results.map((r) => Object.assign(new ImportRowType(), r)),
      errors: result.results.filter((r) => r.status === 'ERROR').length,
    });
  }
}

@InputType('SymbolInput', { description: 'A new symbol (`createSymbol`).' })
export class SymbolInputType {
  @Field({
    description:
      'A letter, then up to 14 letters, digits, `.` or `-` (upper-cased); not the current ticker of another symbol.',
  })
  ticker!: string;

  @Field({ description: '1 to 200 characters.' })
  name!: string;

  @Field({ description: 'ISO 10383 MIC, e.g. XNAS.' })
  exchange!: string;

  @Field({ nullable: true, description: 'Default EQUITY.' })
  assetClass?: string;

  @Field({ nullable: true, description: 'ISO 4217; default USD.' })
  currency?: string;

  @Field(() => String, { nullable: true, description: 'Free text; blank or null: none.' })
  sector?: string | null;

  @Field(() => String, { nullable: true, description: 'Free text; blank or null: none.' })
  industry?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'YYYY-MM-DD, the first session; null: unknown.',
  })
  listedDate?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'YYYY-MM-DD, the first session it no longer trades (after `listedDate`).',
  })
  delistedDate?: string | null;

  @Field(() => SymbolStatusEnum, {
    nullable: true,
    description: 'Default ACTIVE, or DELISTED when `delistedDate` is given.',
  })
  status?: SymbolStatusEnum;
}

@InputType('SymbolPatch', { description: 'The fields to change; absent ones stay.' })
export class SymbolPatchType {
  @Field({ nullable: true, description: '1 to 200 characters.' })
  name?: string;

  @Field({ nullable: true, description: 'ISO 10383 MIC, e.g. XNAS.' })
  exchange?: string;

  @Field({
    nullable: true,
    description: 'EQUITY, ETF, ADR, FUND, INDEX, CRYPTO or OTHER.',
  })
  assetClass?: string;

  @Field({ nullable: true, description: 'ISO 4217 currency code.' })
  currency?: string;

  @Field(() => String, { nullable: true, description: 'Free text; blank or null: none.' })
  sector?: string | null;

  @Field(() => String, { nullable: true, description: 'Free text; blank or null: none.' })
  industry?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'YYYY-MM-DD, the first session; null: unknown.',
  })
  listedDate?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'YYYY-MM-DD, the first session it no longer trades (after `listedDate`).',
  })
  delistedDate?: string | null;

  @Field(() => SymbolStatusEnum, {
    nullable: true,
    description: 'The new status (`delistSymbol` also sets the date).',
  })
  status?: SymbolStatusEnum;
}

@InputType('CorporateActionInput', {
  description:
    'A split (`splitFrom`, `splitTo`) or cash dividend (`cashAmount`, `currency`); at most one of each kind per symbol and ex-date.',
})
export class CorporateActionInputType {
  @Field({ description: 'A ticker, current or former (case-insensitive).' })
  symbol!: string;

  @Field(() => CorporateActionKindEnum, { description: 'SPLIT or DIVIDEND.' })
  kind!: CorporateActionKindEnum;

  @Field({ description: 'YYYY-MM-DD.' })
  exDate!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Split, required: old shares, a positive integer (2-for-1: 1).',
  })
  splitFrom?: number;

  @Field(() => Int, {
    nullable: true,
    description:
      'Split, required: new shares, a positive integer other than `splitFrom` (2-for-1: 2).',
  })
  splitTo?: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Dividend, required: cash per share, a positive number in `currency`.',
  })
  cashAmount?: number;

  @Field({ nullable: true, description: "Default: the symbol's currency." })
  currency?: string;

  @Field({ nullable: true, description: 'Default: manual.' })
  source?: string;
}
