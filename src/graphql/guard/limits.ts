import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
  valueFromASTUntyped,
} from 'graphql';
import { AlphalakeError, type ErrorCode } from '../../domain/index.js';

/**
 * What one operation may ask for, checked while the document is validated — before
 * anything executes (GraphQL spec, "Validation": a server may add rules of its own).
 * Apollo Server keeps validated documents by hash, so a repeated query pays for these
 * rules once. Depth, aliases and directives are counted by graphql-armor's rules; the
 * cost in rows and the page size by ours, which know the history fields' `limit`.
 * Each refusal carries a stable code (src/domain/errors.ts) in `extensions.code`.
 */
export interface QueryLimits {
  /** Deepest selection, fragments expanded (API_MAX_DEPTH). @default 12 */
  readonly maxDepth: number;
  /** Most aliases in an operation (API_MAX_ALIASES). @default 30 */
  readonly maxAliases: number;
  /** Most directives in an operation (API_MAX_DIRECTIVES). @default 50 */
  readonly maxDirectives: number;
  /** Most rows an operation may ask for (API_MAX_COST). @default 200_000 */
  readonly maxCost: number;
  /** Most root fields in an operation. @default 20 */
  readonly maxRootFields: number;
  /** Largest `limit` one field may ask for (API_MAX_PAGE_SIZE). @default 100_000 */
  readonly maxPageSize: number;
}

export const DEFAULT_LIMITS: QueryLimits = Object.freeze({
  maxDepth: 12,
  maxAliases: 30,
  maxDirectives: 50,
  maxCost: 200_000,
  maxRootFields: 20,
  maxPageSize: 100_000,
});

/**
 * The rows a history field returns when it names no `limit`: the resolvers' defaults
 * (src/batch/read/market-data.ts, src/batch/read/lake-browser.ts).
 */
const HISTORY_DEFAULT_LIMIT: Readonly<Record<string, number>> = {
  bars: 20_000,
  /** Per symbol: the field costs this times the number of symbols. */
  barsMany: 20_000,
  trades: 1_000,
  vendorBars: 20_000,
  lakeRows: 100,
  // Connections: a page of `first` rows (DEFAULT_PAGE in src/batch/read/market-data.ts).
  tradesConnection: 100,
  quotes: 100,
  tradesWithQuote: 100,
};

/** The argument that bounds a history field's rows: `first` on connections, else `limit`. */
const SIZE_ARGUMENT: Readonly<Record<string, string>> = {
  tradesConnection: 'first',
  quotes: 'first',
  tradesWithQuote: 'first',
};

/** Every limit as validation rules, in the order their refusals are reported. */
export function limitRules(limits: QueryLimits = DEFAULT_LIMITS): ValidationRule[] {
  const common = { exposeLimits: true, propagateOnRejection: false } as const;
  return [
    maxDepthRule({
      ...common,
      n: limits.maxDepth,
      // GraphiQL's introspection query is 13 deep: `__schema` does not count.
      ignoreIntrospection: true,
      onReject: [reportAs('QUERY_TOO_DEEP', { maxDepth: limits.maxDepth })],
    }) as unknown as ValidationRule,
    maxAliasesRule({
      ...common,
      n: limits.maxAliases,
      onReject: [reportAs('TOO_MANY_ALIASES', { maxAliases: limits.maxAliases })],
    }) as unknown as ValidationRule,
    maxDirectivesRule({
      ...common,
      n: limits.maxDirectives,
      onReject: [reportAs('TOO_MANY_DIRECTIVES', { maxDirectives: limits.maxDirectives })],
    }) as unknown as ValidationRule,
    costLimitRule(limits),
  ];
}

/** graphql-armor's refusal, reported with our code instead of thrown. */
function reportAs(code: ErrorCode, details: Record<string, number>) {
  return (context: ValidationContext | null, error: GraphQLError): void => {
    // graphql-armor prefixes its messages as if they were syntax errors; they are not.
    const message = error.message.replace(/^Syntax Error: /, '');
    context?.reportError(
      new GraphQLError(message, {
        originalError: new AlphalakeError(code, message, details),
      }),
    );
  };
}

/**
 * The rows an operation may return: every root field costs 1; a history field (`bars`,
 * `trades`, `vendorBars`, `lakeRows`) costs the rows it may return (`limit`, or its default), `barsMany`
 * its `limit` times its symbols, and a connection (`tradesConnection`, `quotes`,
 * `tradesWithQuote`) its page, `first`. Fields
 * reached through fragments count too, so a fragment cannot hide a field from the sum.
 * A literal `limit` over the page size is refused on its own (PAGE_TOO_LARGE).
 *
 * Validation runs before variables are known (and Apollo keeps a validated document for
 * every later request), so here a `limit` or a `symbols` list given by a variable counts
 * as the default and as one symbol; `variableCostPlugin` counts them again with the
 * request's values before the operation runs.
 */
export function costLimitRule(limits: QueryLimits = DEFAULT_LIMITS): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      for (const error of operationCostErrors(operation, context, undefined, limits)) {
        context.reportError(error);
      }
    },
  });
}

/**
 * What the cost rule refuses, counted with the request's variables: a `symbols: $s` of
 * barsMany costs its `limit` times the length of `$s`, a `limit: $n` (or `first: $n`)
 * costs `$n` and is refused over the page size. Runs once the operation is resolved,
 * before execution (Apollo's `didResolveOperation`); an operation without variables was
 * fully counted while it was validated and is not counted again.
 */
export function variableCostPlugin(limits: QueryLimits = DEFAULT_LIMITS): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          const error = variableCostRefusal(document, operation, request.variables, limits);
          if (error) throw error;
        },
      };
    },
  };
}

/**
 * The first refusal of an operation counted with its variables' values, or undefined when
 * it is within the limits (or uses no variables: validation counted it already).
 */
export function variableCostRefusal(
  document: DocumentNode,
  operation: OperationDefinitionNode | undefined,
  variables: Readonly<Record<string, unknown>> | undefined,
  limits: QueryLimits = DEFAULT_LIMITS,
): GraphQLError | undefined {
  if (!operation || (operation.variableDefinitions?.length ?? 0) === 0) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  // A variable the request leaves out takes its definition's default (GraphQL spec,
  // "Coercing Variable Values").
  const values: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (variables !== undefined && Object.hasOwn(variables, name)) values[name] = variables[name];
    else if (definition.defaultValue) values[name] = valueFromASTUntyped(definition.defaultValue);
  }
  const [error] = operationCostErrors(
    operation,
    { getFragment: (name) => fragments.get(name) },
    values,
    limits,
  );
  // A refusal before execution, like a validation error's (GraphQL over HTTP: 400).
  return error
    ? new GraphQLError(error.message, {
        nodes: error.nodes,
        originalError: error.originalError,
        extensions: { http: { status: 400 } },
      })
    : undefined;
}

/** Where fragments are found: the validation context, or the request's document. */
interface FragmentSource {
  getFragment(name: string): FragmentDefinitionNode | null | undefined;
}

/**
 * The refusals of one operation: PAGE_TOO_LARGE per field over the page size, then
 * QUERY_TOO_COMPLEX for the whole. Without `variables` (validation), a value given by a
 * variable counts as the field's default and a variable list as one symbol.
 */
function operationCostErrors(
  operation: OperationDefinitionNode,
  source: FragmentSource,
  variables: Readonly<Record<string, unknown>> | undefined,
  limits: QueryLimits,
): GraphQLError[] {
  const errors: GraphQLError[] = [];
  let cost = 0;
  let fields = 0;
  for (const field of rootFields(source, operation.selectionSet, new Set())) {
    fields++;
    const rows = HISTORY_DEFAULT_LIMIT[field.name.value];
    if (rows === undefined) {
      cost += 1;
      continue;
    }
    const argument = SIZE_ARGUMENT[field.name.value] ?? 'limit';
    const limit = limitValue(
      field.arguments?.find((a) => a.name.value === argument)?.value,
      variables,
    );
    if (limit !== undefined && limit > limits.maxPageSize) {
      const message = `${field.alias?.value ?? field.name.value}: ${argument} ${limit} is over the largest page of ${limits.maxPageSize} rows`;
      errors.push(
        new GraphQLError(message, {
          nodes: [field],
          originalError: new AlphalakeError('PAGE_TOO_LARGE', message, {
            limit,
            maxPageSize: limits.maxPageSize,
          }),
        }),
      );
    }
    const symbols =
      field.name.value === 'barsMany'
        ? symbolCount(field.arguments?.find((a) => a.name.value === 'symbols')?.value, variables)
        : 1;
    cost += (limit ?? rows) * symbols;
  }
  if (fields > limits.maxRootFields || cost > limits.maxCost) {
    const message = `query too complex: ${fields} root fields (max ${limits.maxRootFields}), up to ${cost} rows (max ${limits.maxCost})`;
    errors.push(
      new GraphQLError(message, {
        nodes: [operation],
        originalError: new AlphalakeError('QUERY_TOO_COMPLEX', message, {
          cost,
          maxCost: limits.maxCost,
          rootFields: fields,
          maxRootFields: limits.maxRootFields,
        }),
      }),
    );
  }
  return errors;
}

/** The fields of a selection set, through inline fragments and fragment spreads. */
function* rootFields(
  context: FragmentSource,
  selectionSet: SelectionSetNode,
  spread: Set<string>,
): Generator<FieldNode> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      yield selection;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      yield* rootFields(context, selection.selectionSet, spread);
    } else {
      const name = selection.name.value;
      // A fragment spread twice selects its fields once (they merge); a cycle is
      // graphql-js' own error (NoFragmentCyclesRule).
      if (spread.has(name)) continue;
      spread.add(name);
      const fragment = context.getFragment(name);
      if (fragment) yield* rootFields(context, fragment.selectionSet, spread);
    }
  }
}

/**
 * The symbols of a `barsMany`: a literal list's length (a single literal is one symbol,
 * as GraphQL coerces it to a list); a variable's list, its length, when the variables are
 * known. An empty list counts as one (the field still costs its query).
 */
function symbolCount(
  node: ValueNode | undefined,
  variables: Readonly<Record<string, unknown>> | undefined,
): number {
  if (node?.kind === Kind.LIST) return Math.max(1, node.values.length);
  if (node?.kind === Kind.VARIABLE && variables !== undefined) {
    const value = variables[node.name.value];
    return Array.isArray(value) ? Math.max(1, value.length) : 1;
  }
  return 1;
}

/**
 * A literal limit, or a variable's once the variables are known; otherwise (absent, null,
 * or a variable during validation) the field's default counts. Its value is still capped
 * per field when the query runs (MAX_LIMIT in src/batch).
 */
function limitValue(
  node: ValueNode | undefined,
  variables: Readonly<Record<string, unknown>> | undefined,
): number | undefined {
  if (node?.kind === Kind.INT) return Number(node.value);
  if (node?.kind === Kind.VARIABLE && variables !== undefined) {
    const value = variables[node.name.value];
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }
  return undefined;
}
