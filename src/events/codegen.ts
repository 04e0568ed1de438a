/**
 * Generates src/events/generated.ts from the Avro schemas in schemas/.
 * The TypeScript event types are derived, never hand-written, so they cannot
 * drift from the wire contract; test/events/codegen.test.ts fails when the
 * committed file differs from what this produces.
 *
 *   node --import tsx src/events/codegen.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type AvroType = string | AvroType[] | { type: string; name?: string; symbols?: string[]; logicalType?: string; fields?: AvroField[] };
interface AvroField { name: string; type: AvroType; doc?: string }
interface AvroRecord { name: string; doc?: string; fields: AvroField[] }

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
export const STREAM_SCHEMAS = { terminal: 'terminal-event.avsc', gateway: 'gateway-event.avsc', bank: 'bank-event.avsc' } as const;

export function loadSchema(stream: keyof typeof STREAM_SCHEMAS): AvroRecord {
  return JSON.parse(readFileSync(join(ROOT, 'schemas', STREAM_SCHEMAS[stream]), 'utf8')) as AvroRecord;
}

function tsType(t: AvroType, enums: Map<string, string[]>): string {
  if (Array.isArray(t)) return t.map((x) => tsType(x, enums)).join(' | ');
  if (typeof t === 'string') {
    switch (t) {
      case 'null': return 'null';
      case 'string': return 'string';
      case 'long': case 'int': case 'double': case 'float': return 'number';
      case 'boolean': return 'boolean';
      default:
        if (enums.has(t)) return t;
        throw new Error(`codegen: unsupported Avro type ${t}`);
    }
  }
  if (t.type === 'enum') {
    enums.set(t.name!, t.symbols!);
    return t.name!;
  }
  if (t.type === 'long' || t.type === 'int') return 'number';
  throw new Error(`codegen: unsupported Avro type ${JSON.stringify(t)}`);
}

export function generate(): string {
  const enums = new Map<string, string[]>();
  const out: string[] = [
    '// GENERATED from schemas/*.avsc by src/events/codegen.ts. Do not edit by hand:',
    '// change the schema, then run `npm run codegen`.',
    '',
  ];
  const bodies: string[] = [];
  for (const stream of Object.keys(STREAM_SCHEMAS) as (keyof typeof STREAM_SCHEMAS)[]) {
    const rec = loadSchema(stream);
    const lines = [`/** ${rec.doc ?? rec.name} */`, `export interface ${rec.name} {`];
    for (const f of rec.fields) {
      if (f.doc) lines.push(`  /** ${f.doc} */`);
      lines.push(`  ${f.name}: ${tsType(f.type, enums)};`);
    }
    lines.push('}', '');
    lines.push(`export const ${rec.name.toUpperCase().replace('EVENT', '_EVENT')}_FIELDS = ${JSON.stringify(rec.fields.map((f) => f.name))} as const;`, '');
    bodies.push(lines.join('\n'));
  }
  for (const [name, symbols] of [...enums.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const constName = name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() + 'S';
    out.push(`export const ${constName} = ${JSON.stringify(symbols)} as const;`);
    out.push(`export type ${name} = (typeof ${constName})[number];`, '');
  }
  return out.join('\n') + bodies.join('\n');
}

export const GENERATED_PATH = join(ROOT, 'src', 'events', 'generated.ts');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = generate();
  if (process.argv.includes('--check')) {
    if (readFileSync(GENERATED_PATH, 'utf8') !== text) {
      console.error('src/events/generated.ts is stale: run npm run codegen');
      process.exit(1);
    }
  } else {
    writeFileSync(GENERATED_PATH, text);
  }
}
