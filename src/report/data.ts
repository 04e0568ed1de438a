/**
 * What the report shows, read from posguard's ClickHouse tables (the same
 * ones the dashboards and docs/queries.md use): one query per section, over
 * the whole database or a time window on the event time.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export interface ReportWindow {
  /** Epoch ms, inclusive; null = from the first record. */
  readonly fromMs: number | null;
  /** Epoch ms, exclusive; null = to the last record. */
  readonly toMs: number | null;
}

export interface ReportData {
  readonly span: { from: string | null; to: string | null; attempts: number; debits: number; anomalies: number };
  /** open / at_risk_minor / oldest leave suppressed orphans out (anomalies_open); suppressed_* count them apart. */
  readonly riskByCurrency: ({ currency: string } & RiskFigures)[];
  readonly riskByIssuer: ({ issuer_id: string; currency: string } & RiskFigures)[];
  /** with_feed_gaps / open_with_feed_gaps: orphans whose current version was decided while a feed was released (migration 010). */
  readonly orphanStatus: { orphans: number; open: number; suppressed_open: number; auto_resolved: number; retracted: number; with_feed_gaps: number; open_with_feed_gaps: number };
  readonly bucketSeconds: number;
  readonly orphansOverTime: { bucket: string; cause: string; orphans: number }[];
  readonly topIssuers: { issuer_id: string; orphans: number; open: number; debits: number; per_1000_debits: number; main_cause: string }[];
  readonly topTerminals: { terminal_id: string; merchant_id: string; orphans: number; open: number; main_cause: string; fault_spikes: number }[];
  readonly patternsByKind: { kind: string; anomalies: number; cards: number; terminals: number }[];
  readonly patternCards: { card_token: string; patterns: string[]; anomalies: number; related: number; issuer_id: string; last_seen: string }[];
  readonly faultTerminals: { terminal_id: string; merchant_id: string; spikes: number; last_spike: string }[];
  readonly openCases: { anomaly_id: string; debit_time: string; cause: string; issuer_id: string; merchant_id: string; terminal_id: string; rrn: string; amount_minor: number; currency: string; feed_gaps: string[]; terminal_events: string; gateway_events: string; bank_events: string }[];
  readonly deadLetters: { reason: string; records: number }[];
}

export type RiskFigures = {
  readonly open: number;
  readonly at_risk_minor: number;
  /** '' when every open orphan of the row is suppressed. */
  readonly oldest: string;
  readonly suppressed_open: number;
  readonly suppressed_minor: number;
};

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}

/** ClickHouse returns 64-bit integers as strings in JSON: numbers for the report's arithmetic. */
function num<T extends Record<string, unknown>>(r: T, ...keys: (keyof T)[]): T {
  const out = { ...r };
  for (const k of keys) (out as Record<string, unknown>)[k as string] = Number(r[k] ?? 0);
  return out;
}

const ORPHAN = "kind = 'ORPHAN_DEBIT'";
/**
 * Open orphans split as anomalies_open splits them: `suppressed` (migration
 * 009) is "covered by a suppression active now". Aliases differ from the
 * column name, which ClickHouse would otherwise resolve to the alias.
 */
const RISK_FIGURES = `countIf(suppressed = 0) AS open, sumIf(amount_minor, suppressed = 0) AS at_risk_minor,
           if(open = 0, '', toString(minIf(event_time, suppressed = 0))) AS oldest,
           countIf(suppressed = 1) AS suppressed_open, sumIf(amount_minor, suppressed = 1) AS suppressed_minor`;
const RISK_NUMBERS = ['open', 'at_risk_minor', 'suppressed_open', 'suppressed_minor'] as const;

/** A condition on the event time for `col`: ms literals, never user text, go into the SQL. */
type WindowOn = (col: string) => string;

function windowOn(w: ReportWindow): WindowOn {
  return (col) => [
    w.fromMs === null ? null : `${col} >= fromUnixTimestamp64Milli(toInt64(${Math.trunc(w.fromMs)}))`,
    w.toMs === null ? null : `${col} < fromUnixTimestamp64Milli(toInt64(${Math.trunc(w.toMs)}))`,
  ].filter((x) => x !== null).map((x) => ` AND ${x}`).join('');
}

/** One query per section, one at a time (the embedded engine runs one query at a time). */
export async function readReportData(client: ClickHouseClient, w: ReportWindow = { fromMs: null, toMs: null }): Promise<ReportData> {
  const win = windowOn(w);
  const { span, bucketSeconds } = await readSpan(client, win);
  const risk = await readOrphanRisk(client, win, bucketSeconds);
  const offenders = await readTopOffenders(client, win);
  const patterns = await readPatterns(client, win);
  const openCases = await readOpenCases(client, win);
  const deadLetters = await readDeadLetters(client);
  return {
    span,
    riskByCurrency: risk.riskByCurrency, riskByIssuer: risk.riskByIssuer, orphanStatus: risk.orphanStatus,
    bucketSeconds, orphansOverTime: risk.orphansOverTime,
    ...offenders, ...patterns, openCases, deadLetters,
  };
}

/** The span of the data, its counts, and the chart's bucket. */
async function readSpan(client: ClickHouseClient, win: WindowOn): Promise<Pick<ReportData, 'span' | 'bucketSeconds'>> {
  const [span] = await rows<{ from: string | null; to: string | null; attempts: string; debits: string; seconds: string }>(client, `
    SELECT toString(min(txn_time)) AS from, toString(max(txn_time)) AS to, count() AS attempts, countIf(debited) AS debits,
           dateDiff('second', min(txn_time), max(txn_time)) AS seconds
    FROM transactions FINAL WHERE 1${win('txn_time')}`);
  const [anoms] = await rows<{ n: string }>(client, `SELECT count() AS n FROM anomalies_current WHERE status != 'RETRACTED'${win('event_time')}`);
  const seconds = Number(span?.seconds ?? 0);
  // About 48 columns over the span, on a round interval.
  const bucketSeconds = [60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].find((b) => seconds / b <= 48) ?? 86400;

  return {
    span: { from: span?.from ?? null, to: span?.to ?? null, attempts: Number(span?.attempts ?? 0), debits: Number(span?.debits ?? 0), anomalies: Number(anoms?.n ?? 0) },
    bucketSeconds,
  };
}

/** Money at risk in open orphans, their statuses, and orphans over time. */
async function readOrphanRisk(client: ClickHouseClient, win: WindowOn, bucketSeconds: number): Promise<Pick<ReportData, 'riskByCurrency' | 'riskByIssuer' | 'orphanStatus' | 'orphansOverTime'>> {
  const riskByCurrency = (await rows<ReportData['riskByCurrency'][number]>(client, `
    SELECT ifNull(currency, '?') AS currency, ${RISK_FIGURES}
    FROM anomalies_current WHERE ${ORPHAN} AND status = 'OPEN'${win('event_time')}
    GROUP BY currency ORDER BY at_risk_minor DESC`)).map((r) => num(r, ...RISK_NUMBERS));

  const riskByIssuer = (await rows<ReportData['riskByIssuer'][number]>(client, `
    SELECT ifNull(issuer_id, '?') AS issuer_id, ifNull(currency, '?') AS currency, ${RISK_FIGURES}
    FROM anomalies_current WHERE ${ORPHAN} AND status = 'OPEN'${win('event_time')}
    GROUP BY issuer_id, currency ORDER BY at_risk_minor DESC, suppressed_minor DESC LIMIT 15`)).map((r) => num(r, ...RISK_NUMBERS));

  const [status] = await rows<ReportData['orphanStatus']>(client, `
    SELECT countIf(status != 'RETRACTED') AS orphans, countIf(status = 'OPEN' AND suppressed = 0) AS open,
           countIf(status = 'OPEN' AND suppressed = 1) AS suppressed_open,
           countIf(status = 'AUTO_RESOLVED') AS auto_resolved, countIf(status = 'RETRACTED') AS retracted,
           countIf(status != 'RETRACTED' AND notEmpty(feed_gaps)) AS with_feed_gaps,
           countIf(status = 'OPEN' AND suppressed = 0 AND notEmpty(feed_gaps)) AS open_with_feed_gaps
    FROM anomalies_current WHERE ${ORPHAN}${win('event_time')}`);

  const orphansOverTime = (await rows<ReportData['orphansOverTime'][number]>(client, `
    SELECT toString(toStartOfInterval(event_time, INTERVAL ${bucketSeconds} second)) AS bucket, ifNull(cause, 'UNEXPLAINED') AS cause, count() AS orphans
    FROM anomalies_current WHERE ${ORPHAN} AND status != 'RETRACTED'${win('event_time')}
    GROUP BY bucket, cause ORDER BY bucket, cause`)).map((r) => num(r, 'orphans'));

  return {
    riskByCurrency, riskByIssuer,
    orphanStatus: num(status ?? { orphans: 0, open: 0, suppressed_open: 0, auto_resolved: 0, retracted: 0, with_feed_gaps: 0, open_with_feed_gaps: 0 },
      'orphans', 'open', 'suppressed_open', 'auto_resolved', 'retracted', 'with_feed_gaps', 'open_with_feed_gaps'),
    orphansOverTime,
  };
}

/** The issuers and terminals with the most orphans (terminals: and fault spikes). */
async function readTopOffenders(client: ClickHouseClient, win: WindowOn): Promise<Pick<ReportData, 'topIssuers' | 'topTerminals'>> {
  const topIssuers = (await rows<ReportData['topIssuers'][number]>(client, `
    SELECT o.issuer_id AS issuer_id, o.orphans AS orphans, o.open AS open, d.debits AS debits,
           round(1000 * o.orphans / greatest(d.debits, 1), 2) AS per_1000_debits, o.main_cause AS main_cause
    FROM
    (
        SELECT ifNull(issuer_id, '?') AS issuer_id, count() AS orphans, countIf(status = 'OPEN') AS open, topK(1)(cause)[1] AS main_cause
        FROM anomalies_current WHERE ${ORPHAN} AND status != 'RETRACTED'${win('event_time')}
        GROUP BY issuer_id
    ) AS o
    LEFT JOIN
    (
        SELECT ifNull(issuer_id, '?') AS issuer_id, count() AS debits
        FROM transactions FINAL WHERE debited${win('bank_auth_at')}
        GROUP BY issuer_id
    ) AS d ON d.issuer_id = o.issuer_id
    ORDER BY orphans DESC LIMIT 10`)).map((r) => num(r, 'orphans', 'open', 'debits', 'per_1000_debits'));

  const topTerminals = (await rows<ReportData['topTerminals'][number]>(client, `
    SELECT ifNull(terminal_id, '?') AS terminal_id, any(ifNull(merchant_id, '?')) AS merchant_id,
           countIf(${ORPHAN} AND status != 'RETRACTED') AS orphans, countIf(${ORPHAN} AND status = 'OPEN') AS open,
           ifNull(topKIf(1)(cause, ${ORPHAN})[1], '') AS main_cause, countIf(kind = 'TERMINAL_FAULT_SPIKE') AS fault_spikes
    FROM anomalies_current WHERE kind IN ('ORPHAN_DEBIT', 'TERMINAL_FAULT_SPIKE')${win('event_time')}
    GROUP BY terminal_id HAVING orphans + fault_spikes > 0
    ORDER BY orphans + fault_spikes DESC, terminal_id LIMIT 10`)).map((r) => num(r, 'orphans', 'open', 'fault_spikes'));

  return { topIssuers, topTerminals };
}

/** Fraud-like patterns by kind, the cards behind them, and terminals with fault spikes. */
async function readPatterns(client: ClickHouseClient, win: WindowOn): Promise<Pick<ReportData, 'patternsByKind' | 'patternCards' | 'faultTerminals'>> {
  const patternsByKind = (await rows<ReportData['patternsByKind'][number]>(client, `
    SELECT kind, count() AS anomalies, uniqExact(card_token) AS cards, uniqExact(terminal_id) AS terminals
    FROM anomalies_current WHERE kind IN ('CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL', 'TERMINAL_FAULT_SPIKE')${win('event_time')}
    GROUP BY kind ORDER BY anomalies DESC`)).map((r) => num(r, 'anomalies', 'cards', 'terminals'));

  const patternCards = (await rows<ReportData['patternCards'][number]>(client, `
    SELECT card_token, arraySort(groupUniqArray(kind)) AS patterns, count() AS anomalies, sum(length(related_rrns)) AS related,
           any(ifNull(issuer_id, '?')) AS issuer_id, toString(max(event_time)) AS last_seen
    FROM anomalies_current WHERE kind IN ('CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL')${win('event_time')}
    GROUP BY card_token ORDER BY anomalies DESC, last_seen DESC LIMIT 15`)).map((r) => num(r, 'anomalies', 'related'));

  const faultTerminals = (await rows<ReportData['faultTerminals'][number]>(client, `
    SELECT ifNull(terminal_id, '?') AS terminal_id, any(ifNull(merchant_id, '?')) AS merchant_id, count() AS spikes, toString(max(event_time)) AS last_spike
    FROM anomalies_current WHERE kind = 'TERMINAL_FAULT_SPIKE'${win('event_time')}
    GROUP BY terminal_id ORDER BY spikes DESC, last_spike DESC LIMIT 10`)).map((r) => num(r, 'spikes'));

  return { patternsByKind, patternCards, faultTerminals };
}

/** The oldest open orphan cases (up to 20) with their evidence chains, one line per stream. */
async function readOpenCases(client: ClickHouseClient, win: WindowOn): Promise<ReportData['openCases']> {
  const chain = (stream: string) => `arrayStringConcat(arrayMap(e -> JSONExtractString(e, 'event_type'), JSONExtractArrayRaw(evidence, '${stream}')), ' › ')`;
  const openCases = (await rows<ReportData['openCases'][number]>(client, `
    SELECT anomaly_id, toString(event_time) AS debit_time, ifNull(cause, '') AS cause, ifNull(issuer_id, '?') AS issuer_id, ifNull(merchant_id, '?') AS merchant_id,
           ifNull(terminal_id, '?') AS terminal_id, ifNull(rrn, '?') AS rrn, ifNull(amount_minor, 0) AS amount_minor, ifNull(currency, '?') AS currency,
           feed_gaps, ${chain('terminal')} AS terminal_events, ${chain('gateway')} AS gateway_events, ${chain('bank')} AS bank_events
    FROM anomalies_open WHERE ${ORPHAN}${win('event_time')}
    ORDER BY event_time, amount_minor DESC LIMIT 20`)).map((r) => num(r, 'amount_minor'));
  return openCases;
}

/** Dead letters by reason, numbers and quoted values folded (the whole table: no event time to window). */
async function readDeadLetters(client: ClickHouseClient): Promise<ReportData['deadLetters']> {
  const deadLetters = (await rows<ReportData['deadLetters'][number]>(client, `
    SELECT replaceRegexpAll(reason, '"[^"]*"|[0-9]+', '…') AS reason, count() AS records
    FROM dead_letters FINAL
    GROUP BY reason ORDER BY records DESC LIMIT 10`)).map((r) => num(r, 'records'));
  return deadLetters;
}
