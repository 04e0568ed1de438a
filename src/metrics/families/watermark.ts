/**
 * Event-time progress per stream: the watermark itself and how far it is
 * behind the wall clock, both computed at scrape time (a stream not heard
 * from yet reads as the epoch). A lag that keeps
 * growing while events flow is a stalled watermark (one silent stream holds
 * the combined watermark, and with it every decision, back).
 */
import type { Registry } from 'prom-client';
import { STREAMS } from '../../events/index.js';
import { scrapedGauge, type Sample } from '../scrape.js';
import { perStreamWatermarks, type EngineView } from '../sources.js';

export function registerWatermarkMetrics(registry: Registry, engine: () => EngineView | undefined, now: () => number): void {
  const read = (f: (wm: number) => number): Sample[] | undefined => {
    const e = engine();
    if (e === undefined) return undefined;
    const wm = perStreamWatermarks(e);
    if (wm === null) return undefined;
    // Every stream has its series from start: one not heard from yet (−∞) reads as
    // the epoch (timestamp 0, a lag as old as the wall clock), so a stream silent
    // since start is as visible to PosguardWatermarkStalled as one that stopped.
    return STREAMS.map((stream) => [{ stream }, f(Number.isFinite(wm[stream]) ? wm[stream] : 0)] as const);
  };
  scrapedGauge({
    registry,
    name: 'posguard_watermark_timestamp_seconds',
    help: 'Event-time watermark per stream (max event time seen − max delay − clock error), Unix seconds.',
    labelNames: ['stream'],
    read: () => read((wm) => wm / 1000),
  });
  scrapedGauge({
    registry,
    name: 'posguard_watermark_lag_seconds',
    help: 'Wall clock minus the stream\'s watermark, seconds; the engine decides on the minimum watermark, i.e. the largest lag.',
    labelNames: ['stream'],
    read: () => read((wm) => (now() - wm) / 1000),
  });
}
