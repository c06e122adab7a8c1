/** Verification results and their two renderings: a readable table and one JSON document. */
import type { CheckResult, CheckStatus, VerifyReport } from './types.js';

/** Counts the results by status; the report is ok when nothing failed. */
export function buildReport(checks: readonly CheckResult[], durationMs: number): VerifyReport {
  const summary: Record<CheckStatus, number> = { pass: 0, fail: 0, skip: 0, warn: 0 };
  for (const c of checks) summary[c.status] += 1;
  return { ok: summary.fail === 0, summary, checks, durationMs };
}

const MARK: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', warn: 'WARN' };

/** Fixed-width table, failures and warnings repeated at the end with their hints. */
export function renderTable(report: VerifyReport): string {
  const rows = report.checks.map((c) => [MARK[c.status], c.section, c.node ?? '', c.role ?? '', c.name, c.detail]);
  const header = ['STATUS', 'SECTION', 'NODE', 'ROLE', 'CHECK', 'DETAIL'];
  const showNode = report.checks.some((c) => c.node);
  const cols = showNode ? [0, 1, 2, 3, 4, 5] : [0, 1, 3, 4, 5];
  const widths = cols.map((ci) => Math.min(60, Math.max(header[ci]?.length ?? 0, ...rows.map((r) => (r[ci] ?? '').length))));
  const line = (r: string[]): string =>
    cols
      .map((ci, i) => (i === cols.length - 1 ? (r[ci] ?? '') : (r[ci] ?? '').padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  const failed = report.checks.filter((c) => c.status === 'fail');
  out.push('');
  out.push(
    `${report.ok ? 'OK' : 'FAILED'}: ${report.summary.pass} passed, ${report.summary.fail} failed, ${report.summary.warn} warnings, ${report.summary.skip} skipped (${report.durationMs} ms)`,
  );
  if (failed.length) {
    out.push('', 'Failures:');
    for (const f of failed) {
      out.push(`  - [${f.section}] ${f.role ? `${f.role}: ` : ''}${f.name}: ${f.detail}`);
      if (f.hint) out.push(`    hint: ${f.hint}`);
    }
  }
  const warned = report.checks.filter((c) => c.status === 'warn');
  if (warned.length) {
    out.push('', 'Warnings:');
    for (const w of warned) {
      out.push(`  - [${w.section}] ${w.node ? `${w.node}: ` : ''}${w.name}: ${w.detail}`);
      if (w.hint) out.push(`    hint: ${w.hint}`);
    }
  }
  return out.join('\n') + '\n';
}
