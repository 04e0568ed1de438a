/**
 * `posguard report`: a one-page picture of posguard's database without
 * Grafana — money at risk, orphans by cause over time, top issuers and
 * terminals, fraud patterns — as one self-contained HTML file.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { buildCase } from '../cases/build.js';
import { DEFAULT_RULES } from '../config/rules.js';
import { PosguardError } from '../errors.js';
import { renderCaseSection } from './case-html.js';
import { writePrivateFile } from '../util/private-files.js';
import { readReportData, type ReportWindow } from './data.js';
import { renderReport } from './html.js';

export type { ReportData, ReportWindow } from './data.js';
export { readReportData } from './data.js';
export { renderReport, type ReportMeta } from './html.js';

export interface BuildReportOptions {
  readonly title?: string;
  /** Shown in the header: where the data came from. */
  readonly source: string;
  readonly window?: ReportWindow;
  readonly now?: Date;
}

export async function buildReport(client: ClickHouseClient, o: BuildReportOptions): Promise<string> {
  const data = await readReportData(client, o.window);
  const cases = new Map<string, string>();
  for (const c of data.openCases) {
    const view = await buildCase(client, c.anomaly_id, { rules: DEFAULT_RULES, rulesSource: 'the built-in defaults' });
    cases.set(c.anomaly_id, renderCaseSection(c.anomaly_id, view));
  }
  return renderReport(data, { title: o.title ?? 'posguard report', source: o.source, generatedAt: o.now ?? new Date(), cases });
}

export async function writeReport(path: string, html: string): Promise<void> {
  try {
    // The owner's only (0600), like every file posguard writes.
    await writePrivateFile(path, html);
  } catch (e) {
    throw new PosguardError('PG_OUTPUT_UNWRITABLE', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}
