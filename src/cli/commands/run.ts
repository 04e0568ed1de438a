/**
 * `posguard run`: the production job. A Kafka consumer group over the three
 * input topics, Avro through a schema registry (or registry-less), output to
 * ClickHouse (embedded under --data, or CLICKHOUSE_URL). docs/kafka.md.
 */
import type { Command } from 'commander';
import { describeRunConfig, loadRunConfig, type RunConfig } from '../../config/run-config.js';
import { runKafkaJob, type RunResult } from '../../runtime/kafka-job.js';
import { addKafkaSecurityOptions, addRegistrySecurityOptions, warnPasswordOnCommandLine } from './kafka-options.js';

export interface RunFlags {
  readonly config?: string;
  readonly [flag: string]: unknown;
}

const HELP_AFTER = `
Configuration: flags > environment > config file (--config or POSGUARD_CONFIG) > defaults.
Environment: KAFKA_BROKERS, POSGUARD_GROUP_ID, SCHEMA_REGISTRY_URL (+ _USERNAME, _PASSWORD),
  SCHEMA_REGISTRY_CA/_CERT/_KEY/_KEY_PASSPHRASE, KAFKA_SSL, KAFKA_SSL_CA, KAFKA_SSL_CERT, KAFKA_SSL_KEY,
  KAFKA_SSL_KEY_PASSPHRASE, KAFKA_SASL_MECHANISM/_USERNAME/_PASSWORD, KAFKA_ALLOW_SASL_PLAINTEXT,
  POSGUARD_TOPIC_TERMINAL/_GATEWAY/_BANK/_DLQ, POSGUARD_INPUT_FORMAT, POSGUARD_DATA, POSGUARD_RULES,
  POSGUARD_METRICS_HOST, POSGUARD_METRICS_USERNAME/_PASSWORD (basic auth on /metrics), and CLICKHOUSE_URL
  (+ CLICKHOUSE_USER, _PASSWORD, _DATABASE, _TLS_CA, _TLS_CERT, _TLS_KEY) for a ClickHouse server.
Secrets (passwords, key passphrases) have no flags: environment or config file only.
The effective configuration is printed at start-up, secrets masked. See docs/kafka.md (Security).

Signals: SIGTERM/SIGINT drain (stop fetching, flush, commit, leave the group) and exit 0;
  SIGHUP reloads --rules.

Examples:
  $ posguard run --brokers 127.0.0.1:9092 --registry http://127.0.0.1:8081/apis/ccompat/v7
  $ posguard run --config /etc/posguard/run.yaml
  $ posguard run --brokers kafka:9092 --format json --until-end --data ./data
`;

/** The summary printed at the end (CLI output, plain stderr). */
function renderSummary(result: RunResult, cfg: RunConfig): string {
  const s = result.stats;
  const secs = result.elapsedMs / 1000;
  return result.summary.render(result.counters, {
    'ended by': result.reason === 'end-of-input' ? 'end of input (--until-end)' : 'signal',
    'records read': `${s.records} in ${secs.toFixed(1)} s (${Math.round(s.records / Math.max(secs, 0.001))}/s)`,
    'dead-lettered': `${Object.values(s.poison).reduce((a, b) => a + b, 0)} (${Object.entries(s.poison).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}), ${s.deadLettersSent} sent to ${cfg.topics.dlq}`,
    'commits / rebuilds / pauses': `${s.commits} / ${s.rebuilds} / ${s.pauses}${s.staleCommitsDropped > 0 ? ` (${s.staleCommitsDropped} commits of an ended generation dropped)` : ''}`,
    'alignment pauses': `${s.alignmentPauses} (input topic-partitions paused while ahead in event time)`,
    'checkpoints / restores': `${s.checkpoints} written / ${s.restores} restored`,
    ...(s.cardFacts === undefined ? {} : { 'card facts (spread)': `${s.cardFacts.sent} written (facts and markers), ${s.cardFacts.read} read in stage 2, ${s.cardFacts.bad} bad` }),
    'rebuild reconciliation': `${s.ledger.loaded} stored anomalies loaded, ${s.ledger.suppressedIdentical + s.ledger.suppressedLaterTrigger} re-emissions skipped, ${s.ledger.retracted} retracted, ${s.suppressedBelowFloor} below the floor`,
  });
}

/** Parses the configuration, prints it (secrets masked), runs the job (src/runtime/kafka-job.ts), prints the summary. */
async function runCommand(flags: RunFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const loaded = loadRunConfig({ flags, env, configFile: flags.config });
  process.stderr.write(describeRunConfig(loaded));
  try {
    const result = await runKafkaJob(loaded.config);
    process.stderr.write(renderSummary(result, loaded.config));
  } finally {
    // kafkajs or the embedded engine may keep a handle a little longer; never hang after a clean drain.
    setTimeout(() => process.exit(process.exitCode ?? 0), 5_000).unref();
  }
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('Run the detector as a Kafka consumer group over the three input topics, into ClickHouse (production mode).')
    .option('--config <file>', 'config file (YAML or JSON, sections kafka, topics, input, output, run)')
    .option('--brokers <list>', 'bootstrap brokers, comma-separated host:port (env KAFKA_BROKERS; default 127.0.0.1:9092)')
    .option('--group <id>', 'consumer group id (default posguard)')
    .option('--assignment <mode>', 'exact (default): one member holds every partition, the others stand by; spread: partitions shared out, card patterns exact across members through the card-facts topic (duplicates and reversals across members not yet)')
    .option('--client-id <id>', 'Kafka client id (default posguard)')
    .option('--registry <url>', 'schema registry URL, Confluent API (env SCHEMA_REGISTRY_URL): values are Confluent wire-format Avro')
    .option('--format <f>', 'value format: confluent (with --registry), avro (plain, registry-less; default without a registry), json')
    .option('--data <dir>', 'embedded ClickHouse data folder (default ./data; not with CLICKHOUSE_URL)')
    .option('--rules <file>', 'rules file (YAML or JSON); SIGHUP reloads it')
    .option('--terminal-topic <t>', 'terminal topic (default pos.terminal.events)')
    .option('--gateway-topic <t>', 'gateway topic (default pos.gateway.events)')
    .option('--bank-topic <t>', 'bank-core topic (default bank.core.authorizations)')
    .option('--dlq-topic <t>', 'dead-letter topic (default posguard.dlq)')
    .option('--state-topic <t>', 'compacted checkpoint topic (default posguard.state)')
    .option('--card-facts-topic <t>', 'internal topic between the stages under --assignment spread (default posguard.card-facts)')
    .option('--until-end', 'bounded run: read up to the end offsets seen at start, take every pending decision, exit')
    .option('--skip-raw-events', 'do not copy the input events to events_raw (the largest table)')
    .option('--commit-interval-ms <ms>', 'how often durable results are committed (default 5000)')
    .option('--checkpoint-interval-ms <ms>', 'how often the state is checkpointed to the state topic and the offsets committed with it (default 60000; 0 = off)')
    .option('--align-ahead-ms <ms>', 'reading a backlog, pause an input topic-partition this far ahead in event time of the slowest (default 600000; 0 = off)')
    .option('--idle-timeout-ms <ms>', 'a partition without events this long stops holding back card patterns (default 30000)')
    .option('--shutdown-timeout-ms <ms>', 'longest drain on SIGTERM/SIGINT (default 30000)')
    .option('--session-timeout-ms <ms>', 'consumer group session timeout (default 30000)')
    .option('--heartbeat-interval-ms <ms>', 'heartbeat period (default 3000)')
    .option('--max-bytes-per-partition <n>', 'fetch size per partition, bounds memory per fetch (default 1048576)')
    .option('--status-interval-ms <ms>', 'status line period, 0 = none (default 10000)')
    .option('--metrics-port <port>', 'Prometheus /metrics, /healthz, /readyz on this port, 0 = off (default 9464)')
    .option('--suppressions-reload-ms <ms>', 'how often active suppressions are re-read from ClickHouse (default 30000)')
    .option('--metrics-host <addr>', 'address the metrics port listens on (default 0.0.0.0, so Prometheus can scrape; 127.0.0.1 for a local agent only)')
    .option('--quiet-after-ms <ms>', 'a caught-up stream-partition silent this long is quiet (default 30000)')
    .option('--stall-alert-after-ms <ms>', 'a stream stalled this long in most partitions is a feed outage (default 120000)')
    .option('--stall-release-ms <ms>', 'a stalled stream-partition stops holding its partition after this long (default 600000)');
  addRegistrySecurityOptions(addKafkaSecurityOptions(cmd))
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: RunFlags) => {
      warnPasswordOnCommandLine(flags.registry);
      await runCommand(flags);
    });
}
