/**
 * The barriers of a `posguard run` output (STATE_FORMAT 2), for the recovery
 * bench: per kind (base, delta) how many, the input hold (the figure issue 13b
 * targets: ≤ ~1 s) and the segment sizes, from the checkpointer's lines
 * "checkpoint N (why): … segment base (reason) of I items B bytes, chain of K (captured in H ms …".
 */
const LINE = /checkpoint \d+ \([^)]*\): \d+ partitions?, \d+ bytes, segment (base|delta)(?: \([a-z]+\))? of (\d+) items (\d+) bytes, chain of \d+ \(captured in (\d+) ms/g;

interface Kind {
  n: number;
  heldMs: number[];
  bytes: number[];
  items: number[];
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One line: "base ×n held max H ms, B bytes, I items; delta ×m held median/max h/H ms, median b bytes, i items", or null without barriers. */
export function barrierSummary(output: string): string | null {
  const kinds: Record<string, Kind> = {};
  for (const m of output.matchAll(LINE)) {
    const k = (kinds[m[1]] ??= { n: 0, heldMs: [], bytes: [], items: [] });
    k.n++;
    k.items.push(Number(m[2]));
    k.bytes.push(Number(m[3]));
    k.heldMs.push(Number(m[4]));
  }
  const parts: string[] = [];
  for (const [name, k] of Object.entries(kinds)) {
    parts.push(`${name} ×${k.n} held median/max ${median(k.heldMs)}/${Math.max(...k.heldMs)} ms, median ${median(k.bytes)} B, ${median(k.items)} items`);
  }
  return parts.length === 0 ? null : parts.join('; ');
}
