/** ClickHouse storage: connection, migrations, the sink, and the analyst query runner. */
import { clientBatchWriter } from './writer.js';
import type { ClickHouseTarget } from '../../config/clickhouse-target.js';
import { openClickHouse } from './connection.js';
import { ClickHouseSink, type ClickHouseSinkOptions } from './sink.js';

export * from './connection.js';
export * from './migrate.js';
export * from './sink.js';
export * from './tables.js';
export * from './writer.js';
export * from './query.js';

/** Opens the target and returns a sink whose close() also closes the client. */
export async function openClickHouseSink(target: ClickHouseTarget, opts: Omit<ClickHouseSinkOptions, 'onClose'> = {}): Promise<ClickHouseSink> {
  const handle = await openClickHouse(target);
  return new ClickHouseSink(clientBatchWriter(handle.client), { ...opts, onClose: () => handle.close() });
}
