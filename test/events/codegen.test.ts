import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { GENERATED_PATH, generate, loadSchema, STREAM_SCHEMAS } from '../../src/events/codegen.js';

describe('event types are generated from the Avro schemas', () => {
  it('the committed src/events/generated.ts is what the schemas produce (run npm run codegen)', () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(generate());
  });

  it('every schema parses, and every field has a doc', () => {
    for (const stream of Object.keys(STREAM_SCHEMAS) as (keyof typeof STREAM_SCHEMAS)[]) {
      const s = loadSchema(stream);
      expect(() => avro.Type.forSchema(s as avro.Schema)).not.toThrow();
      for (const f of s.fields) expect(f.doc, `${stream}.${f.name}`).toBeTruthy();
    }
  });

  it('the schemas hold the fields and enums of events.md', () => {
    const names = (stream: keyof typeof STREAM_SCHEMAS) => loadSchema(stream).fields.map((f) => f.name);
    const common = ['event_id', 'event_time', 'terminal_id', 'merchant_id', 'stan', 'event_type'];
    expect(names('terminal')).toEqual([...common, 'txn_type', 'amount_minor', 'currency', 'card_token', 'masked_pan', 'entry_mode', 'response_code', 'failure_reason', 'fault_component', 'orig_stan', 'lat', 'lon']);
    expect(names('gateway')).toEqual([...common, 'rrn', 'txn_type', 'amount_minor', 'currency', 'card_token', 'issuer_id', 'network', 'response_code', 'latency_ms', 'orig_rrn']);
    expect(names('bank')).toEqual([...common, 'rrn', 'txn_type', 'amount_minor', 'currency', 'card_token', 'issuer_id', 'account_ref', 'auth_code', 'response_code', 'orig_rrn']);
    const symbols = (stream: keyof typeof STREAM_SCHEMAS) => (loadSchema(stream).fields.find((f) => f.name === 'event_type')!.type as { symbols: string[] }).symbols;
    expect(symbols('bank')).toEqual(['AUTH_APPROVED', 'AUTH_DECLINED', 'REVERSAL_APPLIED', 'REVERSAL_REJECTED', 'REFUND_POSTED']);
    expect(symbols('gateway')).toHaveLength(8);
    expect(symbols('terminal')).toHaveLength(7);
  });
});
