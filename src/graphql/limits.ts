import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import { AlphalakeError } from '../domain/index.js';

/**
 * Query cost limits, checked before execution: aliases could otherwise ask for the same
 * large history many times in one request. Every root field costs 1; a history field
 * (`bars`, `trades`, `lakeRows`) costs the rows it may return (`limit`, or its default).
 */
export interface QueryLimits {
  /** @default 200_000 */
  readonly maxCost: number;
  /** @default 20 */
  readonly maxRootFields: number;
}

export const DEFAULT_LIMITS: QueryLimits = Object.freeze({ maxCost: 200_000, maxRootFields: 20 });

const HISTORY_DEFAULT_LIMIT: Readonly<Record<string, number>> = {
  bars: 20_000,
  trades: 1_000,
  lakeRows: 100,
};

export function costLimitRule(limits: QueryLimits = DEFAULT_LIMITS) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      let cost = 0;
      let fields = 0;
      for (const selection of operation.selectionSet.selections) {
        if (selection.kind !== Kind.FIELD) continue;
        fields++;
        const rows = HISTORY_DEFAULT_LIMIT[selection.name.value];
        if (rows === undefined) {
          cost += 1;
          continue;
        }
        const limit = selection.arguments?.find((a) => a.name.value === 'limit')?.value;
        cost += limitValue(limit) ?? rows;
      }
      if (fields > limits.maxRootFields || cost > limits.maxCost) {
        const message = `query too expensive: ${fields} root fields (max ${limits.maxRootFields}), up to ${cost} rows (max ${limits.maxCost})`;
        context.reportError(
          new GraphQLError(message, {
            nodes: [operation],
            originalError: new AlphalakeError('BAD_USER_INPUT', message, {
              cost,
              maxCost: limits.maxCost,
            }),
          }),
        );
      }
    },
  });
}

/**
 * A literal limit. A limit given by a variable counts as the field's default here; its
 * value is still capped per field when the query runs (MAX_LIMIT), and the number of
 * root fields bounds the total.
 */
function limitValue(node: ValueNode | undefined): number | undefined {
  return node?.kind === Kind.INT ? Number(node.value) : undefined;
}
