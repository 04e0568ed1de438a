/**
 * `posguard simulate`: writes a replay data set (three stream files in
 * arrival order, plus labels.jsonl) from the seeded fault simulator.
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { PosguardError } from '../../errors.js';
import { SIM_DEFAULTS, SIM_LIMITS, writeSimulation } from '../../sim/index.js';
import { addKafkaSecurityOptions, addRegistrySecurityOptions, kafkaOptionsFrom, registryOptionsFrom } from './kafka-options.js';
import { runSimulateKafka } from './simulate-kafka.js';

/** Defaults arrive as numbers, user input as strings. */
interface SimulateFlags {
  [flag: string]: unknown;
  out?: string;
  kafka?: string;
  registry?: string;
  format?: string;
  seed: string | number;
  minutes: string | number;
  tps: string | number;
  start?: string;
  faultRate: string | number;
  badRecordRate: string | number;
}

function usage(message: string): PosguardError {
  return new PosguardError('PG_USAGE', `simulate: ${message}`);
}

function number(flag: string, value: string | number, check: (n: number) => boolean, expected: string): number {
  const text = String(value);
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !check(n)) throw usage(`--${flag} must be ${expected}, got "${text}"`);
  return n;
}

function parseStart(text: string | undefined): number {
  if (text === undefined) return SIM_DEFAULTS.startMs;
  // A bare date-time without a zone would depend on the machine's time zone: require one.
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim()) && !/^\d{4}-\d{2}-\d{2}$/.test(text.trim())) throw usage(`--start must be an ISO 8601 time with a zone (e.g. 2026-03-02T08:00:00Z), got "${text}"`);
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || ms <= 0) throw usage(`--start must be an ISO 8601 time, got "${text}"`);
  return ms;
}

const HELP_AFTER = `
Writes, in --out:
  terminal.jsonl, gateway.jsonl, bank.jsonl   one JSON event per line, in arrival order
                                              (not event-time order), replay format
  labels.jsonl                                one line per injected scenario or broken line,
                                              with the anomalies it must produce

Every orphan-debit cause, duplicate and amount-mismatch debits, the fraud-like patterns
and their near misses are injected (each at least once when the span allows: use at
least 38 minutes for all of them), together with terminal clock drift (up to +/-5 min),
arrival delays up to 60 s, redeliveries, events 2-8 minutes late and broken lines.
The same options always give the same bytes.

Examples:
  $ posguard simulate --out data/sim
  $ posguard simulate --out data/big --seed 7 --minutes 10 --tps 200
`;

export function registerSimulate(program: Command): void {
  const cmd = program
    .command('simulate')
    .description('Generate a labelled replay data set with injected faults, fraud-like patterns and near misses.')
    .option('--out <dir>', 'folder to write terminal.jsonl, gateway.jsonl, bank.jsonl and labels.jsonl to (created if missing)')
    .option('--kafka <brokers>', 'send the traffic to the three Kafka topics (host:port,...) instead of files (docs/kafka.md)')
    .option('--registry <url>', 'with --kafka: Confluent wire-format Avro, schemas registered under <topic>-value')
    .option('--format <f>', 'with --kafka and no --registry: avro (default) or json')
    .option('--terminal-topic <t>', 'with --kafka: terminal topic (default pos.terminal.events)')
    .option('--gateway-topic <t>', 'with --kafka: gateway topic (default pos.gateway.events)')
    .option('--bank-topic <t>', 'with --kafka: bank-core topic (default bank.core.authorizations)');
  addRegistrySecurityOptions(addKafkaSecurityOptions(cmd))
    .addOption(new Option('--seed <n>', 'random seed (an integer): same seed, same bytes').default(SIM_DEFAULTS.seed))
    .addOption(new Option('--minutes <m>', 'simulated span, minutes').default(SIM_DEFAULTS.minutes))
    .addOption(new Option('--tps <r>', 'nominal attempts per second (a diurnal profile scales it)').default(SIM_DEFAULTS.tps))
    .option('--start <iso>', `true time the span starts, ISO 8601 with a zone (default: ${new Date(SIM_DEFAULTS.startMs).toISOString()})`)
    .addOption(new Option('--fault-rate <f>', 'fraction of attempts turned into injected scenarios').default(SIM_DEFAULTS.faultRate))
    .addOption(new Option('--bad-record-rate <f>', 'fraction of events followed by a broken line').default(SIM_DEFAULTS.badRecordRate))
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: SimulateFlags) => {
      const began = performance.now();
      const opts = {
        seed: number('seed', flags.seed, Number.isSafeInteger, 'an integer'),
        minutes: number('minutes', flags.minutes, (n) => n > 0 && n <= SIM_LIMITS.maxMinutes, `a number in (0, ${SIM_LIMITS.maxMinutes}]`),
        tps: number('tps', flags.tps, (n) => n > 0 && n <= SIM_LIMITS.maxTps, `a number in (0, ${SIM_LIMITS.maxTps}]`),
        startMs: parseStart(flags.start),
        faultRate: number('fault-rate', flags.faultRate, (n) => n >= 0 && n <= 1, 'a fraction in [0, 1]'),
        badRecordRate: number('bad-record-rate', flags.badRecordRate, (n) => n >= 0 && n <= 1, 'a fraction in [0, 1]'),
      };
      if (flags.kafka !== undefined) {
        if (flags.out !== undefined) throw usage('give --out or --kafka, not both');
        const { brokers: _, clientId: __, ...security } = kafkaOptionsFrom({ ...flags, brokers: flags.kafka }, process.env, 'posguard-simulate');
        const registryOptions = flags.registry !== undefined ? registryOptionsFrom(flags.registry, flags, process.env) : undefined;
        const topics = { terminal: flags.terminalTopic as string | undefined, gateway: flags.gatewayTopic as string | undefined, bank: flags.bankTopic as string | undefined };
        await runSimulateKafka({ brokers: flags.kafka, security, topics: Object.fromEntries(Object.entries(topics).filter(([, v]) => v !== undefined)), registry: flags.registry, registryOptions, format: flags.format, ...opts });
        return;
      }
      if (flags.out === undefined) throw usage('--out <dir> (or --kafka <brokers>) is required');
      if (flags.registry !== undefined || flags.format !== undefined) throw usage('--registry and --format go with --kafka');
      const dir = resolve(flags.out);
      const { counts, labels } = await writeSimulation(dir, opts);
      const secs = ((performance.now() - began) / 1000).toFixed(1);
      process.stderr.write(
        `posguard simulate: ${counts.terminal} terminal, ${counts.gateway} gateway, ${counts.bank} bank lines ` +
          `(${counts.redelivered} redelivered, ${counts.late} late, ${counts.bad} bad), ${labels} labels -> ${dir} in ${secs} s\n`,
      );
    });
}
