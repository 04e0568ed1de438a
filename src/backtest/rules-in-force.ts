/**
 * The rules in force for a backtest without --baseline-rules: the rules the
 * detector recorded with the anomalies of the period (rules, rules_version,
 * migration 008), the latest by detected_at. More than one version in the
 * period is said in one note (the latest is taken); none recorded (rows from
 * before 008, or no anomaly in the period) falls back to the spec defaults,
 * also with a note. Read-only.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { buildRules, DEFAULT_RULES, type Rules } from '../config/rules.js';
import { PosguardError } from '../errors.js';
import { clickHouseMessage } from '../sinks/clickhouse/query.js';

export interface RulesInForce {
  readonly rules: Rules;
  /** For the report's "in force:" line. */
  readonly name: string;
  readonly note: string | null;
}

interface VersionRow { rules_version: string; latest_rules: string; n: string; first: string; last: string }

async function json<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  try {
    return await (await client.query({ query, format: 'JSONEachRow' })).json<T>();
  } catch (e) {
    throw new PosguardError('PG_CLICKHOUSE', `reading the rules recorded with the anomalies: ${clickHouseMessage(e)}`, { cause: e });
  }
}

const between = (fromMs?: number, toMs?: number) => [
  fromMs === undefined ? '' : ` AND event_time >= fromUnixTimestamp64Milli(toInt64(${Math.trunc(fromMs)}), 'UTC')`,
  toMs === undefined ? '' : ` AND event_time < fromUnixTimestamp64Milli(toInt64(${Math.trunc(toMs)}), 'UTC')`,
].join('');

export async function rulesInForce(client: ClickHouseClient, fromMs?: number, toMs?: number): Promise<RulesInForce> {
  const fallback = (why: string): RulesInForce => ({ rules: DEFAULT_RULES, name: 'spec defaults', note: `no recorded rules: ${why}; the spec defaults stand in (or give --baseline-rules)` });
  const [c] = await json<{ n: string }>(client, "SELECT count() AS n FROM system.columns WHERE database = currentDatabase() AND table = 'anomalies' AND name IN ('rules', 'rules_version')");
  if (Number(c.n) < 2) return fallback('anomalies has no rules column (migration 008 not applied)');
  const versions = await json<VersionRow>(client, `
    SELECT rules_version, argMax(rules, detected_at) AS latest_rules, count() AS n, toString(min(detected_at)) AS first, toString(max(detected_at)) AS last
    FROM anomalies WHERE rules != ''${between(fromMs, toMs)}
    GROUP BY rules_version ORDER BY max(detected_at) DESC, rules_version`);
  if (versions.length === 0) return fallback('no anomaly row in the period records its rules (none, or written before migration 008)');
  const latest = versions[0];
  let rules: Rules;
  try {
    rules = buildRules(JSON.parse(latest.latest_rules), `rules ${latest.rules_version} recorded with the anomalies`);
  } catch (e) {
    throw new PosguardError('PG_CONFIG_INVALID', `the rules recorded with the anomalies (version ${latest.rules_version}) cannot be read: ${(e as Error).message}; give --baseline-rules`, { cause: e });
  }
  const note = versions.length === 1 ? null
    : `${versions.length} rules versions recorded in the period (${versions.map((v) => `${v.rules_version}: ${v.n} rows, detected ${v.first.slice(0, 19)} .. ${v.last.slice(0, 19)}`).join('; ')}); the latest, ${latest.rules_version}, is taken as in force`;
  return { rules, name: `recorded with the anomalies, rules_version ${latest.rules_version}`, note };
}
