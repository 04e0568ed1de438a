/**
 * What the contract check costs per event, the PAN guard included: simulated
 * traffic (UUID event ids, hex card tokens, SHA-256 account refs: the strings
 * the guard must scan and let through), decoded once, then validateEvent
 * alone, best of 5. `node --import tsx bench/validate.ts`. The figure before
 * and after the every-field guard is in docs/security.md.
 */
import { DEFAULT_RULES } from '../src/config/rules.js';
import type { Stream } from '../src/events/index.js';
import { validateEvent } from '../src/ingest/validate.js';
import { simulate } from '../src/sim/index.js';

const records = [...simulate({ seed: 7, minutes: 20, tps: 40, startMs: Date.parse('2026-03-02T08:00:00Z'), rules: DEFAULT_RULES }).records];
const events: { stream: Stream; value: unknown }[] = records.flatMap((r) => {
  try {
    return [{ stream: r.stream, value: JSON.parse(r.line) as unknown }];
  } catch {
    return []; // the simulator's broken lines
  }
});
let ok = 0;
const once = () => {
  ok = 0;
  const t0 = performance.now();
  for (const e of events) if (validateEvent(e.stream, e.value).ok) ok++;
  return (performance.now() - t0) / 1000;
};
once();
const secs = Math.min(...Array.from({ length: 5 }, once));
process.stdout.write(`validateEvent: ${events.length.toLocaleString('en')} events (${ok.toLocaleString('en')} valid), ${Math.round(events.length / secs).toLocaleString('en')} events/s, ${((secs * 1e9) / events.length).toFixed(0)} ns/event\n`);
