/**
 * Process defaults (prom-client's process_* and nodejs_* metrics, unprefixed
 * so stock Node.js dashboards work) and build information.
 */
import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

let version: string | undefined;
function posguardVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

export function registerProcessMetrics(registry: Registry, defaults: boolean): void {
  if (defaults) collectDefaultMetrics({ register: registry });
  const info = new Gauge({
    name: 'posguard_build_info',
    help: 'Always 1; the labels say which posguard and Node.js this process runs.',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  });
  info.set({ version: posguardVersion(), node_version: process.version }, 1);
}
