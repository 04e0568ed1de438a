/**
 * The schema registry as `posguard run` sees it: 1 while schema lookups fail
 * for lack of the registry (unreachable, 5xx, credentials refused, or a 404
 * from something that does not answer as a registry). Meanwhile the input
 * waits and commits hold (nothing is dead-lettered for it); 0 otherwise, from
 * start, so an alert can use it without absent().
 */
import { Gauge, type Registry } from 'prom-client';

export interface RegistryMetrics {
  registryUnreachable(unreachable: boolean): void;
}

export function registerRegistryMetrics(registry: Registry): RegistryMetrics {
  const gauge = new Gauge({
    name: 'posguard_registry_unreachable',
    help: 'Schema lookups are failing for lack of the schema registry (1) or not (0); while 1 the input waits and commits hold.',
    registers: [registry],
  });
  gauge.set(0);
  return { registryUnreachable: (u) => gauge.set(u ? 1 : 0) };
}
