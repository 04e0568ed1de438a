/**
 * The top frames of a V8 CPU profile (`node --cpu-prof`), by self time, and
 * the same time summed per source file or package (issue 16, "where the time
 * goes"). Only the thread the profile was taken on: the embedded ClickHouse's
 * threads and V8's helper threads are not in it (compare with the process's
 * CPU from /usr/bin/time). tsx's transpiled sources report line 1, so frames
 * are named by function and file.
 *
 *   node --import tsx bench/cpu-profile-top.ts FILE.cpuprofile [--top 20]
 *   npm run bench:kafka -- --cpu-prof DIR   (writes one profile per end-to-end run into DIR)
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileTop {
  /** Sampled microseconds in all. */
  readonly totalUs: number;
  /** [frame, self µs], largest first. */
  readonly frames: readonly (readonly [string, number])[];
  /** [file or package, self µs], largest first. */
  readonly files: readonly (readonly [string, number])[];
}

/** A package name for node_modules frames, the path below src/ for ours, the URL or the pseudo-frame otherwise. */
function fileOf(url: string, fn: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url === '' ? fn : url;
}

export function profileTop(p: Profile): ProfileTop {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const frames = new Map<string, number>();
  const files = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i] ?? 0;
    const node = byId.get(p.samples[i]);
    if (node === undefined) continue;
    totalUs += us;
    const { functionName, url } = node.callFrame;
    const fn = functionName === '' ? '(anonymous)' : functionName;
    const file = fileOf(url, fn);
    const frame = url === '' ? fn : `${fn} ${file}`;
    frames.set(frame, (frames.get(frame) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalUs, frames: sorted(frames), files: sorted(files) };
}

function render(top: ProfileTop, n: number): string {
  const line = ([name, us]: readonly [string, number]) =>
    `${((100 * us) / top.totalUs).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s  ${name}`;
  return [
    `${(top.totalUs / 1e6).toFixed(1)} s sampled (idle included)`,
    'self time by frame:',
    ...top.frames.slice(0, n).map(line),
    'self time by file or package:',
    ...top.files.slice(0, n).map(line),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const file = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--top');
  if (file === undefined) {
    console.error('usage: node --import tsx bench/cpu-profile-top.ts FILE.cpuprofile [--top 20]');
    process.exit(2);
  }
  const at = argv.indexOf('--top');
  console.log(render(profileTop(JSON.parse(readFileSync(file, 'utf8')) as Profile), at >= 0 ? Number(argv[at + 1]) : 20));
}
