import { AlphalakeError } from './errors.js';

/**
 * Which parts of a bar a trade may set, by its sale conditions: the consolidated
 * processing guidelines of the SIPs (CTA Output Specification, "Sale Condition"
 * matrix; UTP Output Specification, "Sale Condition Modifiers"), as Polygon publishes
 * them per condition id in `update_rules.consolidated` of GET /v3/reference/conditions
 * (the ids a trade's `conditions`, flat-file column or REST/WS `c`, carries). An average
 * price, odd lot or cash trade adds to volume but sets no price; a derivatively priced
 * one sets high and low but not open or close; an official open sets nothing.
 */
export interface ConditionUpdateRules {
  readonly updatesOpenClose: boolean;
  readonly updatesHighLow: boolean;
  readonly updatesVolume: boolean;
}

/** Rules by condition id; a condition not listed restricts nothing. */
export type ConditionRules = ReadonlyMap<number, ConditionUpdateRules>;

const EVERYTHING: ConditionUpdateRules = Object.freeze({
  updatesOpenClose: true,
  updatesHighLow: true,
  updatesVolume: true,
});

/**
 * What a trade with these conditions may update: each rule must allow it (the most
 * restrictive condition wins). No conditions, or ids the table does not list (a regular
 * sale is id 0 and restricts nothing), update everything, so a source without condition
 * codes (the simulator, a CSV without the column) builds bars as before.
 */
export function updateRulesOf(
  conditions: readonly number[] | undefined,
  rules: ConditionRules,
): ConditionUpdateRules {
  if (conditions === undefined || conditions.length === 0) return EVERYTHING;
  let openClose = true;
  let highLow = true;
  let volume = true;
  for (const id of conditions) {
    const rule = rules.get(id);
    if (rule === undefined) continue;
    openClose &&= rule.updatesOpenClose;
    highLow &&= rule.updatesHighLow;
    volume &&= rule.updatesVolume;
  }
  if (openClose && highLow && volume) return EVERYTHING;
  return { updatesOpenClose: openClose, updatesHighLow: highLow, updatesVolume: volume };
}

/**
 * The trade-condition rules in a response of Polygon's GET /v3/reference/conditions
 * (`{ results: [{ id, type, name, asset_class, data_types, update_rules: { consolidated:
 * { updates_high_low, updates_open_close, updates_volume }, market_center: … } }] }`):
 * the stock conditions whose `data_types` include `trade` and that have consolidated
 * rules. Ids are reused across data types (a quote condition may share a trade
 * condition's id), so the others are left out. A response of another shape is refused
 * with UPSTREAM_MALFORMED, naming what is wrong.
 */
export function conditionRulesOf(response: unknown): Map<number, ConditionUpdateRules> {
  const malformed = (what: string) =>
    new AlphalakeError('UPSTREAM_MALFORMED', `conditions response: ${what}`, {});
  const results = (response as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) throw malformed('no `results` array');
  const rules = new Map<number, ConditionUpdateRules>();
  for (const [i, entry] of results.entries()) {
    const condition = entry as {
      id?: unknown;
      asset_class?: unknown;
      data_types?: unknown;
      update_rules?: { consolidated?: Record<string, unknown> };
    };
    if (typeof condition?.id !== 'number' || !Number.isInteger(condition.id))
      throw malformed(`results[${i}].id is not an integer`);
    if (condition.asset_class !== undefined && condition.asset_class !== 'stocks') continue;
    if (!Array.isArray(condition.data_types) || !condition.data_types.includes('trade')) continue;
    const consolidated = condition.update_rules?.consolidated;
    if (consolidated === undefined) continue;
    const flag = (name: string) => {
      const value = consolidated[name];
      if (typeof value !== 'boolean')
        throw malformed(`results[${i}].update_rules.consolidated.${name} is not a boolean`);
      return value;
    };
    rules.set(condition.id, {
      updatesOpenClose: flag('updates_open_close'),
      updatesHighLow: flag('updates_high_low'),
      updatesVolume: flag('updates_volume'),
    });
  }
  return rules;
}
