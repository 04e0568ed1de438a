import { readFileSync } from 'node:fs';

export const QUERIES_MD = new URL('../../../docs/queries.md', import.meta.url);

/** Each `## heading` of docs/queries.md with its first ```sql block. */
export function documentedQueries(markdown: string = readFileSync(QUERIES_MD, 'utf8')): { title: string; sql: string }[] {
  const out: { title: string; sql: string }[] = [];
  const re = /^## (.+)\n[\s\S]*?^```sql\n([\s\S]*?)^```/gm;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) out.push({ title: m[1].trim(), sql: m[2] });
  return out;
}
