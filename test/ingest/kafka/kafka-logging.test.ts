/** kafkajs' log lines go through posguard's one logger, as component "kafka": expected noise dropped, secrets masked. */
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createKafka, kafkaLineLevel } from '../../../src/ingest/kafka/client.js';
import { createLogger } from '../../../src/util/log.js';
import { clearSecrets, registerSecret } from '../../../src/util/redact.js';

describe('kafkajs lines', () => {
  it('keep their level, drop the expected rebalance noise, and report a routine rejoin as info', () => {
    expect(kafkaLineLevel(logLevel.ERROR, 'Connection error: connect ECONNREFUSED')).toBe('error');
    expect(kafkaLineLevel(logLevel.WARN, 'Crash: something')).toBe('warn');
    expect(kafkaLineLevel(logLevel.INFO, 'Consumer has joined the group')).toBe('info');
    expect(kafkaLineLevel(logLevel.DEBUG, 'Request Fetch')).toBe('debug');
    expect(kafkaLineLevel(logLevel.ERROR, 'The group is rebalancing, re-joining')).toBeNull();
    expect(kafkaLineLevel(logLevel.WARN, 'The coordinator is loading')).toBeNull();
    expect(kafkaLineLevel(logLevel.ERROR, 'Response Heartbeat: The group is rebalancing, so a rejoin is needed')).toBe('info');
  });

  it('reach the logger given to the client as JSON lines of component kafka, secrets masked', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } }).child({ component: 'kafka' });
    // The name resolution error repeats the host, a registered secret here.
    const secret = 'kafka-log-secret-7781';
    registerSecret(secret);
    try {
      const admin = createKafka({ brokers: [`${secret}.invalid:1`], clientId: 'posguard-test', retries: 0, log }).admin();
      await expect(admin.connect()).rejects.toThrow(/ENOTFOUND/);
    } finally {
      clearSecrets();
    }
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; component: string; msg: string });
    expect(parsed.length).toBeGreaterThan(0);
    expect(parsed[0]).toMatchObject({ level: 'error', component: 'kafka' });
    expect(parsed[0].msg).toMatch(/^Connection error: getaddrinfo ENOTFOUND \*\*\*\.invalid$/);
    expect(lines.join('')).not.toContain(secret);
  });
});
