/** Rules reloaded mid-run apply to the decisions taken from then on; held state survives. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRulesFile } from '../../src/config/rules.js';
import { RulesHolder } from '../../src/config/rules-holder.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, MIN, T0 } from '../eval/builders.js';

type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');

describe('rules reload mid-run', () => {
  it('new thresholds govern later decisions, a bad file is refused, and no state is lost', () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-reload-'));
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, 'debits:\n  reversalGraceMs: 300000\n');
    const holder = new RulesHolder(loadRulesFile(file), file);
    const out: Anomaly[] = [];
    const { engine } = createPipeline(holder.source, { anomaly: (a) => out.push(a) });
    const push = (events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
    const b = new EventBuilder();
    // Attempt 1: orphan, reversed 8 minutes after the debit.
    push(Object.values(b.attempt({ t: T0, omit: ['RESPONSE_RECEIVED', 'TXN_COMPLETED'] })));
    push([b.bank('REVERSAL_APPLIED', { event_time: T0 + 8 * MIN })]);
    // Attempt 2, same story 20 minutes later (another card, so no duplicate).
    const ctx2 = { stan: '000002', rrn: 'RRN000000002', card_token: 'tok_card_B' };
    push(Object.values(b.attempt({ t: T0 + 20 * MIN, ...ctx2, omit: ['RESPONSE_RECEIVED', 'TXN_COMPLETED'] })));
    // Decided under the 5-minute grace: attempt 1 is an orphan, auto-resolved by its late reversal.
    expect(out.filter((a) => a.rrn === 'RRN000000001').map((a) => [a.status, a.cause])).toEqual([['AUTO_RESOLVED', 'RESPONSE_LOST_TO_TERMINAL']]);

    writeFileSync(file, 'debits:\n  reversalGraceMs: soon\n');
    const bad = holder.reload();
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.reason).toMatch(/debits\.reversalGraceMs: expected integer/);
    expect(holder.get().debits.reversalGraceMs).toBe(300_000);

    writeFileSync(file, 'debits:\n  reversalGraceMs: 600000\n');
    expect(holder.reload().ok).toBe(true);
    // Attempt 2's reversal at +8 min is now within the 10-minute grace: no orphan.
    const r2 = new EventBuilder({ ...ctx2 }, { firstId: 5_000 });
    push([r2.bank('REVERSAL_APPLIED', { event_time: T0 + 28 * MIN })]);
    engine.end();
    expect(out.filter((a) => a.rrn === 'RRN000000002')).toEqual([]);
    // Attempt 1's decision, taken under the old rules, stands; its state was not lost.
    expect(out.filter((a) => a.rrn === 'RRN000000001').at(-1)?.status).toBe('AUTO_RESOLVED');
    expect(engine.counters.events.bank).toBe(4);
  });
});
