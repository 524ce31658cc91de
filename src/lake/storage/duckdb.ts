import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/**
 * One in-process DuckDB for the lake: it writes every data file and checkpoint and runs
 * every query. Connections are pooled; an `AbortSignal` interrupts the running statement.
 */
let instance: Promise<DuckDBInstance> | undefined;
const idle: DuckDBConnection[] = [];

function getInstance(): Promise<DuckDBInstance> {
  instance ??= DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' }).catch(
    (error: unknown) => {
      instance = undefined;
      throw error;
    },
  );
  return instance;
}

export async function withDuckDB<T>(
  work: (connection: DuckDBConnection) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  signal?.throwIfAborted();
  const connection = idle.pop() ?? (await (await getInstance()).connect());
  const onAbort = (): void => connection.interrupt();
  signal?.addEventListener('abort', onAbort, { once: true });
  let healthy = true;
  try {
    return await work(connection);
  } catch (error) {
    healthy = false;
    signal?.throwIfAborted();
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (healthy && idle.length < 8) idle.push(connection);
    else connection.closeSync();
  }
}

/** An SQL string literal, for file paths only (values always travel as parameters). */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
