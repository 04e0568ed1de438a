#!/usr/bin/env node
// Wait until a Kafka broker answers an admin request (list topics + describe cluster),
// using the project's kafkajs client.
//
// Usage: node deploy/local/wait-kafka.mjs [--brokers 127.0.0.1:9092] [--timeout 90]
//                                         [--log FILE] [--pid PID] [--quiet]
//   --log FILE  on failure, print the last lines of FILE (the broker log)
//   --pid PID   fail fast if this process dies while we wait
// Exit 0 when ready, 1 on timeout or if the broker process died.
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';

function parseArgs(argv) {
  const out = {
    brokers: `127.0.0.1:${process.env.KAFKA_PORT || 9092}`,
    timeout: 90,
    log: null,
    pid: null,
    quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--brokers') out.brokers = argv[++i];
    else if (a === '--timeout') out.timeout = Number(argv[++i]);
    else if (a === '--log') out.log = argv[++i];
    else if (a === '--pid') out.pid = Number(argv[++i]);
    else if (a === '--quiet') out.quiet = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const say = (msg) => { if (!args.quiet) console.log(`[wait-kafka] ${msg}`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function alive(pid) {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    // A killed process that is not yet reaped (zombie) still answers kill(0).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function tail(file, n = 40) {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    return lines.slice(-n - 1).join('\n');
  } catch (e) {
    return `(cannot read ${file}: ${e.message})`;
  }
}

async function probe(brokers) {
  const kafka = new Kafka({
    clientId: 'posguard-wait',
    brokers: brokers.split(','),
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const topics = await admin.listTopics();
    return { brokers: cluster.brokers.length, controller: cluster.controller, topics: topics.length };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

const start = Date.now();
const deadline = start + args.timeout * 1000;
let lastErr = null;
let attempts = 0;
say(`waiting up to ${args.timeout}s for Kafka at ${args.brokers}`);
while (Date.now() < deadline) {
  attempts++;
  if (args.pid && !alive(args.pid)) {
    console.error(`[wait-kafka] ERROR: the Kafka process (pid ${args.pid}) exited while starting.`);
    if (args.log) console.error(`--- last lines of ${args.log} ---\n${tail(args.log)}`);
    process.exit(1);
  }
  try {
    const info = await probe(args.brokers);
    if (info.brokers >= 1 && info.controller !== null && info.controller !== undefined) {
      say(`ready after ${((Date.now() - start) / 1000).toFixed(1)}s: ${info.brokers} broker(s), controller ${info.controller}, ${info.topics} topic(s)`);
      process.exit(0);
    }
    lastErr = new Error(`cluster not ready yet: ${JSON.stringify(info)}`);
  } catch (e) {
    lastErr = e;
  }
  await sleep(500);
}
console.error(`[wait-kafka] ERROR: Kafka at ${args.brokers} not ready after ${args.timeout}s (${attempts} attempts). Last error: ${lastErr?.name ?? ''} ${lastErr?.message ?? lastErr}`);
if (args.log) console.error(`--- last lines of ${args.log} ---\n${tail(args.log)}`);
process.exit(1);
