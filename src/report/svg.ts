/**
 * Inline SVG charts for the HTML report: no script, no fonts, no network, so
 * the page renders the same in a mail client, a browser offline or a PDF.
 * Every text is escaped; sizes are in user units and the SVG scales to width.
 */
import { maskPans } from '../util/pan.js';

export function esc(s: unknown): string {
  // Every text of the report passes here: the last place to mask a card number (src/util/pan.ts).
  return maskPans(String(s ?? '')).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Colour-blind-safe palette (Okabe-Ito, then greys). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#999999', '#666666'];

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export interface StackedSeries {
  readonly name: string;
  readonly values: readonly number[];
}

/** Stacked columns over time buckets, with a y axis, sparse x labels and a legend. */
export function stackedBars(o: { labels: readonly string[]; series: readonly StackedSeries[]; title: string; width?: number; height?: number }): string {
  const W = o.width ?? 900;
  const H = o.height ?? 280;
  const left = 48;
  const right = 12;
  const top = 12;
  const legendRows = Math.ceil(o.series.length / 3);
  const bottom = 28 + legendRows * 18;
  const n = Math.max(1, o.labels.length);
  const totals = o.labels.map((_, i) => o.series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const bw = plotW / n;
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="axis">${esc(Number.isInteger(v) ? v : v.toFixed(1))}</text>`);
  }
  o.labels.forEach((label, i) => {
    let acc = 0;
    o.series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return;
      const y0 = y(acc);
      const y1 = y(acc + v);
      acc += v;
      parts.push(`<rect x="${(left + i * bw + bw * 0.1).toFixed(1)}" y="${y1.toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" height="${(y0 - y1).toFixed(1)}" fill="${PALETTE[k % PALETTE.length]}"><title>${esc(`${label} ${s.name}: ${v}`)}</title></rect>`);
    });
  });
  const every = Math.max(1, Math.ceil(n / 8));
  o.labels.forEach((label, i) => {
    if (i % every !== 0) return;
    parts.push(`<text x="${(left + i * bw + bw / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" class="axis">${esc(label)}</text>`);
  });
  parts.push(`<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#999"/>`);
  o.series.forEach((s, k) => {
    const lx = left + (k % 3) * (plotW / 3);
    const ly = top + plotH + 36 + Math.floor(k / 3) * 18;
    parts.push(`<rect x="${lx.toFixed(1)}" y="${ly - 10}" width="12" height="12" fill="${PALETTE[k % PALETTE.length]}"/><text x="${(lx + 18).toFixed(1)}" y="${ly}" class="legend">${esc(s.name)} (${s.values.reduce((a, b) => a + b, 0)})</text>`);
  });
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}

export interface BarItem {
  readonly label: string;
  readonly value: number;
  /** Shown after the bar instead of the value. */
  readonly text?: string;
}

/** Horizontal bars, largest first as given. */
export function hBars(o: { items: readonly BarItem[]; title: string; width?: number; color?: string }): string {
  const W = o.width ?? 900;
  const row = 24;
  const labelW = 150;
  const textW = 140;
  const H = Math.max(1, o.items.length) * row + 8;
  const max = Math.max(1e-9, ...o.items.map((i) => i.value));
  const barMax = W - labelW - textW;
  const parts = o.items.map((it, i) => {
    const y = 4 + i * row;
    const w = Math.max(1, (it.value / max) * barMax);
    return `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end" class="label">${esc(it.label)}</text>`
      + `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 8}" fill="${o.color ?? PALETTE[0]}"><title>${esc(`${it.label}: ${it.text ?? it.value}`)}</title></rect>`
      + `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 16}" class="value">${esc(it.text ?? it.value)}</text>`;
  });
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}
