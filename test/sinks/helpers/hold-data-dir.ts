/** Child process for the lock test: holds an embedded data directory until its stdin closes. */
import { openClickHouse } from '../../../src/sinks/clickhouse/connection.js';

const ch = await openClickHouse({ kind: 'embedded', dataDir: process.argv[2] });
await ch.client.query({ query: 'SELECT 1', format: 'JSONEachRow' });
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void ch.close().then(() => process.exit(0));
});
