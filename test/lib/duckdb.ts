// DuckDB (@duckdb/node-api, an optional dependency) as an independent Parquet reader for
// tests. Where it is not installed a test skips — except under CI=true, where `npm ci`
// installs it, so its absence is a failure there, never a silent skip.

import type {Test} from 'tap';

export interface Db {
  /** Rows as JSON-safe objects (64-bit integers as strings, timestamps as text). */
  all(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

/** duckdb opens an in-memory database, or returns null after skipping (failing under CI) t. */
export async function duckdb(t: Test): Promise<Db | null> {
  let api: typeof import('@duckdb/node-api');
  try {
    api = await import('@duckdb/node-api');
  } catch (err) {
    const why = `@duckdb/node-api is not installed (${(err as Error).message.split('\n')[0]})`;
    if (process.env.CI === 'true') t.fail(`${why}: CI installs optional dependencies, so it must be there`);
    else t.skip(why);
    return null;
  }
  const db = await api.DuckDBInstance.create(':memory:');
  const con = await db.connect();
  return {
    all: async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[],
    close: () => {
      con.closeSync();
      db.closeSync();
    },
  };
}
