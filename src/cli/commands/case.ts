/**
 * `posguard case <rrn | anomaly_id | terminal_id:stan>`: one attempt's whole
 * story from ClickHouse, and the decision explained step by step.
 * `posguard case --card TOKEN_OR_MASKED_PAN [--amount A] [--merchant M] [--around TIME]`:
 * the card's attempts, best match first, with their verdicts.
 */
import type { Command } from 'commander';
import { DEFAULT_RULES, loadRulesFile } from '../../config/rules.js';
import { PosguardError } from '../../errors.js';
import { buildCase } from '../../cases/build.js';
import { renderCaseText } from '../../cases/render-text.js';
import { parseAmount, renderHitsText, searchCases } from '../../cases/search.js';
import { openClickHouse } from '../../sinks/clickhouse/connection.js';
import { resolveTarget } from '../../config/clickhouse-target.js';

export interface CaseCommandOptions {
  data?: string;
  format: string;
  rules?: string;
  card?: string;
  amount?: string;
  merchant?: string;
  around?: string;
  limit: string;
}

const EXAMPLES = `
Examples:
  posguard case 633504139846                      # by rrn
  posguard case 18484cabeb93bf4567ca7071499b0d30  # by anomaly id (from a dashboard row)
  posguard case PA105990:356768                   # by terminal_id:stan
  posguard case 633504139846 --format json | jq .explanation.cause
  posguard case --card 465859******6518 --amount 107.78 --around "2026-12-01T14:00:00Z"
  posguard case --card tok_3dfb87966462d317e21cdffe --merchant MERAM0001961842

The case shows the attempt's events on the three streams (terminal events also
on the gateway's clock, corrected by the terminal's measured offset), the golden
record, every version of every anomaly on it (with its latest label and the
suppression it was written under), the ORPHAN_DEBIT decision re-derived rule by
rule from the stored events, compared with the stored cause, and for every
other kind its own rule checked against its evidence under the rules recorded
with it (opened by such an anomaly's id, the orphan walk is left out).
Reads the embedded database (--data, default ./data) or CLICKHOUSE_URL.`;

function checkArgs(id: string | undefined, o: CaseCommandOptions): void {
  if (o.format !== 'text' && o.format !== 'json') throw new PosguardError('PG_USAGE', `--format: expected text or json, got ${JSON.stringify(o.format)}`);
  if (id !== undefined && o.card !== undefined) throw new PosguardError('PG_USAGE', 'give either a case id or --card, not both');
  if (id === undefined && o.card === undefined) throw new PosguardError('PG_USAGE', 'give a case id (rrn, anomaly id or terminal_id:stan) or --card TOKEN_OR_MASKED_PAN');
  const searchOnly = (['amount', 'merchant', 'around'] as const).filter((k) => o[k] !== undefined);
  if (id !== undefined && searchOnly.length > 0) throw new PosguardError('PG_USAGE', `--${searchOnly[0]} refines a --card search; with a case id it is not used`);
}

function parseAround(s: string | undefined): number | null {
  if (s === undefined) return null;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) || !/T|\d \d/.test(s) ? s : `${s}Z`);
  if (Number.isNaN(ms)) throw new PosguardError('PG_USAGE', `--around: expected an ISO time like 2026-12-01T14:00:00Z (UTC unless a zone is given), got ${JSON.stringify(s)}`);
  return ms;
}

function parseLimit(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new PosguardError('PG_USAGE', `--limit: expected a whole number from 1 to 500, got ${JSON.stringify(s)}`);
  return n;
}

export async function runCase(id: string | undefined, o: CaseCommandOptions, write: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  checkArgs(id, o);
  const search = o.card === undefined ? null : { card: o.card, amountMinor: o.amount === undefined ? null : parseAmount(o.amount), merchant: o.merchant ?? null, aroundMs: parseAround(o.around), limit: parseLimit(o.limit) };
  const rules = o.rules ? loadRulesFile(o.rules) : DEFAULT_RULES;
  const ch = await openClickHouse(resolveTarget({ dataDir: o.data, env }), { create: false });
  try {
    if (search !== null) {
      const hits = await searchCases(ch.client, search);
      write(o.format === 'json' ? JSON.stringify(hits, null, 2) + '\n' : renderHitsText(hits));
      return;
    }
    const view = await buildCase(ch.client, id!, { rules, rulesSource: o.rules ? `--rules ${o.rules}` : 'the built-in defaults' });
    write(o.format === 'json' ? JSON.stringify(view, null, 2) + '\n' : renderCaseText(view));
  } finally {
    await ch.close();
  }
}

export function registerCase(program: Command): void {
  program
    .command('case')
    .description('one attempt\'s full story (timeline, golden record, anomaly versions) and why posguard named its cause; or find a card\'s attempts')
    .argument('[id]', 'rrn, anomaly_id or terminal_id:stan')
    .option('--card <token|masked_pan>', 'search a card\'s attempts (card token, or masked PAN first6******last4)')
    .option('--amount <amount>', 'with --card: the amount the customer names, major units (107.78)')
    .option('--merchant <merchant_id>', 'with --card: the merchant')
    .option('--around <time>', 'with --card: when it happened (ISO, UTC unless a zone is given)')
    .option('--limit <n>', 'with --card: at most this many attempts', '20')
    .option('--format <format>', 'text or json', 'text')
    .option('--rules <file>', 'rules to explain with when the anomaly rows recorded none (default: built-in)')
    .option('--data <dir>', 'embedded ClickHouse data directory (default ./data); conflicts with CLICKHOUSE_URL')
    .addHelpText('after', EXAMPLES)
    .action(async (id: string | undefined, opts: CaseCommandOptions) => {
      await runCase(id, opts, (s) => void process.stdout.write(s));
    });
}
