/**
 * Test helpers for suites that use the embedded engine. chdb holds one data
 * directory per process, so each such suite is its own test file (vitest's
 * forks pool runs each file in its own process) with its own temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse, type ClickHouseHandle } from '../../../src/sinks/clickhouse/connection.js';
import { migrate } from '../../../src/sinks/clickhouse/migrate.js';

export interface TestDb extends ClickHouseHandle {
  readonly dir: string;
  /** Closes the client and removes the folder. */
  dispose(): Promise<void>;
}

export async function openTestDb(name: string, opts: { migrate?: boolean } = {}): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), `posguard-${name}-`));
  const h = await openClickHouse({ kind: 'embedded', dataDir: dir });
  if (opts.migrate !== false) await migrate(h.client);
  return {
    ...h,
    dir,
    async dispose() {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function rows<T = Record<string, unknown>>(client: ClickHouseClient, query: string): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}

export async function scalar(client: ClickHouseClient, query: string): Promise<number> {
  const r = await rows<{ v: number | string }>(client, query);
  return Number(r[0].v);
}
