/**
 * The rules: every window and threshold of ../shared/spec/detection.md, with the
 * spec's defaults. Validated once against a JSON schema (ajv), then deep-frozen,
 * so no code can change a threshold behind the engine's back. A rules file
 * (YAML or JSON) may override any subset.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { PosguardError } from '../errors.js';

const ms = (def: number, doc: string) => ({ type: 'integer', minimum: 0, default: def, description: doc });
const count = (def: number, doc: string) => ({ type: 'integer', minimum: 1, default: def, description: doc });
const severity = (def: string) => ({ type: 'string', enum: ['info', 'warning', 'high', 'critical'], default: def, description: 'severity attached to anomalies of this kind' });
const enabled = { type: 'boolean', default: true, description: 'evaluate this kind at all' };
const section = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, default: {}, properties });

export const RULES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    time: section({
      maxDelayMs: ms(60_000, 'events arrive at most this long after they happen; later is late data'),
      terminalMaxDriftMs: ms(300_000, 'a terminal clock is at most this far from true time'),
      clockSkewMs: ms(1_000, 'gateway and bank clocks are at most this far from true time'),
      allowedLatenessMs: ms(600_000, 'how long decided evidence is kept for late events to re-evaluate'),
      maxFutureMs: ms(900_000, 'an event stamped more than this ahead of the wall clock is a dead letter (event_time_in_future)'),
    }),
    debits: section({
      reversalGraceMs: ms(300_000, 'a debit reversed within this long after it is neither orphaned nor a duplicate'),
      resolutionHorizonMs: ms(86_400_000, 'a reversal this long after the debit still auto-resolves it'),
    }),
    orphanDebit: section({ enabled, severity: severity('high') }),
    duplicateDebit: section({ enabled, severity: severity('high'), windowMs: ms(600_000, 'max time between the two debits') }),
    amountMismatch: section({ enabled, severity: severity('warning') }),
    cardTesting: section({
      enabled, severity: severity('high'),
      windowMs: ms(600_000, 'sliding window, bank event time'),
      minAttempts: count(6, 'small authorization attempts in the window'),
      maxAmountMinor: ms(2_000, 'an attempt is small at or below this amount (minor units)'),
      minDeclined: count(4, 'of which declined'),
      minMerchants: count(3, 'distinct merchants among them'),
    }),
    cardVelocity: section({
      enabled, severity: severity('warning'),
      windowMs: ms(3_600_000, 'sliding window, bank event time'),
      minDebits: count(10, 'debits in the window'),
      minSumMinor: count(5_000_000, 'or debits summing to this much in one currency (minor units)'),
    }),
    impossibleTravel: section({
      enabled, severity: severity('high'),
      minDistanceKm: { type: 'number', minimum: 0, default: 300, description: 'terminal locations at least this far apart' },
      maxSpeedKmh: { type: 'number', exclusiveMinimum: 0, default: 900, description: 'closer in time than the distance at this speed' },
    }),
    terminalFaultSpike: section({
      enabled, severity: severity('warning'),
      windowMs: ms(900_000, 'sliding window, the terminal\'s own clock'),
      minSignals: count(3, 'hardware signals in the window'),
    }),
  },
} as const;

export type Severity = 'info' | 'warning' | 'high' | 'critical';
interface Kind { readonly enabled: boolean; readonly severity: Severity }
export interface Rules {
  readonly time: { readonly maxDelayMs: number; readonly terminalMaxDriftMs: number; readonly clockSkewMs: number; readonly allowedLatenessMs: number; readonly maxFutureMs: number };
  readonly debits: { readonly reversalGraceMs: number; readonly resolutionHorizonMs: number };
  readonly orphanDebit: Kind;
  readonly duplicateDebit: Kind & { readonly windowMs: number };
  readonly amountMismatch: Kind;
  readonly cardTesting: Kind & { readonly windowMs: number; readonly minAttempts: number; readonly maxAmountMinor: number; readonly minDeclined: number; readonly minMerchants: number };
  readonly cardVelocity: Kind & { readonly windowMs: number; readonly minDebits: number; readonly minSumMinor: number };
  readonly impossibleTravel: Kind & { readonly minDistanceKm: number; readonly maxSpeedKmh: number };
  readonly terminalFaultSpike: Kind & { readonly windowMs: number; readonly minSignals: number };
}

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: true });
const validate = ajv.compile(RULES_SCHEMA);

function describe(e: ErrorObject): string {
  const where = (e.instancePath || '/').slice(1).replace(/\//g, '.') || '(top level)';
  switch (e.keyword) {
    case 'additionalProperties': return `${where === '(top level)' ? '' : where + '.'}${String(e.params.additionalProperty)}: unknown field`;
    case 'type': return `${where}: expected ${String(e.params.type)}`;
    case 'enum': return `${where}: expected one of ${(e.params.allowedValues as string[]).join(', ')}`;
    default: return `${where}: ${e.message ?? e.keyword}`;
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Validates a parsed rules object (partial allowed), fills the spec defaults, freezes. */
export function buildRules(input: unknown = {}, source = 'rules'): Rules {
  // A JSON round trip, not structuredClone: YAML anchors share one object between
  // sections, and ajv's defaults must not leak from one section into another.
  const copy = JSON.parse(JSON.stringify(input ?? {})) as unknown;
  if (!validate(copy)) {
    const msgs = (validate.errors ?? []).map(describe);
    throw new PosguardError('PG_CONFIG_INVALID', `${source}: ${msgs.join('; ')}`, { context: { source, errors: msgs } });
  }
  const r = copy as unknown as Rules;
  if (r.cardTesting.minDeclined > r.cardTesting.minAttempts) {
    throw new PosguardError('PG_CONFIG_INVALID', `${source}: cardTesting.minDeclined (${r.cardTesting.minDeclined}) cannot exceed cardTesting.minAttempts (${r.cardTesting.minAttempts})`);
  }
  return deepFreeze(r);
}

/** Reads a YAML or JSON rules file. */
export function loadRulesFile(path: string): Rules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PosguardError('PG_INPUT_UNREADABLE', `cannot read rules file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text); // YAML is a superset of JSON
  } catch (e) {
    throw new PosguardError('PG_CONFIG_INVALID', `${path}: not valid YAML/JSON: ${(e as Error).message}`, { cause: e });
  }
  return buildRules(parsed ?? {}, path);
}

export const DEFAULT_RULES: Rules = buildRules({});
