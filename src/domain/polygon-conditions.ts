import { conditionRulesOf, type ConditionRules } from './trade-conditions.js';

/**
 * The fixture of Polygon's trade-condition table: a response body of
 * GET /v3/reference/conditions?asset_class=stocks (docs: polygon.io/docs/stocks/get_v3_reference_conditions;
 * knowledge base "How does Polygon create the OHLCV aggregate bars?"), in that endpoint's
 * documented JSON format, with the conditions whose consolidated update rules restrict a
 * bar or that are common on the tape. The rows are the listing's as published (ids,
 * names, SIP mappings, `update_rules`); conditionRulesOf reads them, as it reads the live
 * endpoint's answer (src/app.ts, when POLYGON_API_KEY is set). A condition id not
 * listed here restricts nothing (docs/ingest.md, "Condition codes"). A quote condition
 * that reuses trade id 12 is kept, as the listing has such rows, and must be left out.
 */
export const POLYGON_CONDITIONS_FIXTURE = {
  status: 'OK',
  request_id: 'alphalake-fixture',
  count: 19,
  results: [
    {
      id: 1,
      type: 'sale_condition',
      name: 'Acquisition',
      asset_class: 'stocks',
      sip_mapping: {
        UTP: 'A',
      },
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 2,
      type: 'sale_condition',
      name: 'Average Price Trade',
      asset_class: 'stocks',
      sip_mapping: {
        CTA: 'B',
        UTP: 'W',
        FINRA_TDDS: 'W',
      },
      update_rules: {
        consolidated: {
          updates_high_low: false,
          updates_open_close: false,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: false,
          updates_open_close: false,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 3,
      type: 'sale_condition',
      name: 'Automatic Execution',
      asset_class: 'stocks',
      sip_mapping: {
        CTA: 'E',
      },
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 4,
      type: 'sale_condition',
      name: 'Bunched Trade',
      asset_class: 'stocks',
      sip_mapping: {
        UTP: 'B',
      },
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 5,
      type: 'sale_condition',
      name: 'Bunched Sold Trade',
      asset_class: 'stocks',
      sip_mapping: {
        UTP: 'G',
      },
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: false,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: true,
          updates_open_close: false,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 6,
      type: 'sale_condition',
      name: 'CAP Election',
      asset_class: 'stocks',
      sip_mapping: {
        CTA: 'I',
      },
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
      legacy: true,
    },
    {
      id: 7,
      type: 'sale_condition',
      name: 'Cash Sale',
      asset_class: 'stocks',
      sip_mapping: {
        CTA: 'C',
        UTP: 'C',
        FINRA_TDDS: 'C',
      },
      update_rules: {
        consolidated: {
          updates_high_low: false,
          updates_open_close: false,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: false,
          updates_open_close: false,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 8,
      type: 'sale_condition',
      name: 'Closing Prints',
      asset_class: 'stocks',
      sip_mapping: {
        UTP: '6',
      },
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 9,
      type: 'sale_condition',
      name: 'Cross Trade',
      asset_class: 'stocks',
      sip_mapping: {
        CTA: 'X',
        UTP: 'X',
      },
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 10,
      type: 'sale_condition',
      name: 'Derivatively Priced',
      asset_class: 'stocks',
      sip_mapping: {
        CTA: '4',
        UTP: '4',
      },
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: false,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: true,
          updates_open_close: false,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 12,
      type: 'sale_condition',
      name: 'Form T/Extended Hours',
      asset_class: 'stocks',
      update_rules: {
        consolidated: {
          updates_high_low: false,
          updates_open_close: false,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 13,
      type: 'sale_condition',
      name: 'Extended Hours (Sold Out Of Sequence)',
      asset_class: 'stocks',
      update_rules: {
        consolidated: {
          updates_high_low: false,
          updates_open_close: false,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 14,
      type: 'sale_condition',
      name: 'Intermarket Sweep',
      asset_class: 'stocks',
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 16,
      type: 'sale_condition',
      name: 'Market Center Official Open',
      asset_class: 'stocks',
      update_rules: {
        consolidated: {
          updates_high_low: false,
          updates_open_close: false,
          updates_volume: false,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 32,
      type: 'sale_condition',
      name: 'Sold (Out Of Sequence)',
      asset_class: 'stocks',
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: false,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 37,
      type: 'sale_condition',
      name: 'Odd Lot Trade',
      asset_class: 'stocks',
      sip_mapping: {
        CTA: 'I',
        UTP: 'I',
        FINRA_TDDS: 'I',
      },
      update_rules: {
        consolidated: {
          updates_high_low: false,
          updates_open_close: false,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: false,
          updates_open_close: false,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 38,
      type: 'sale_condition',
      name: 'Corrected Consolidated Close (per listing market)',
      asset_class: 'stocks',
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: false,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 41,
      type: 'trade_thru_exempt',
      name: 'Trade Thru Exempt',
      asset_class: 'stocks',
      sip_mapping: {
        CTA: '1',
        UTP: 'X',
      },
      update_rules: {
        consolidated: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
        market_center: {
          updates_high_low: true,
          updates_open_close: true,
          updates_volume: true,
        },
      },
      data_types: ['trade'],
    },
    {
      id: 12,
      type: 'quote_condition',
      name: 'Manual Bid and Ask',
      asset_class: 'stocks',
      data_types: ['bbo', 'nbbo'],
    },
  ],
} as const;

/** The rules bars follow unless the live table replaces them (BarBuilder's default). */
export const DEFAULT_CONDITION_RULES: ConditionRules = conditionRulesOf(POLYGON_CONDITIONS_FIXTURE);
