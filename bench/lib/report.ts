/**
 * What a bench module returns and how the runner prints it: every figure of ours next to a
 * baseline measured in the same run, the ratio, and the target with PASS/MISS.
 */

/** One compared figure. `higherIsBetter` decides how the ratio is read against the target. */
export interface Comparison {
  metric: string;
  unit: string;
  ours: number;
  baseline: number;
  /** what the baseline is, e.g. "ovsdb-client transact, 1 call per batch" */
  baselineName: string;
  higherIsBetter: boolean;
  /**
   * The target as a ratio ours/baseline: for higher-is-better figures ours/baseline must be
   * >= target; for lower-is-better ones ours/baseline must be <= target.
   */
  target?: number;
  /** how the target reads to a human, e.g. ">= 0.8x the C tool's rate" */
  targetText?: string;
}

/** A figure with no baseline (e.g. heap per row), checked against an absolute limit. */
export interface Measurement {
  metric: string;
  unit: string;
  value: number;
  /** lower-is-better limit */
  max?: number;
  targetText?: string;
}

export interface BenchResult {
  comparisons: Comparison[];
  measurements: Measurement[];
  notes: string[];
}

export interface BenchContext {
  /** multiplies the problem size (1 = the full benchmark) */
  scale: number;
  log(msg: string): void;
}

export interface BenchModule {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export function verdict(c: Comparison): 'PASS' | 'MISS' | '' {
  if (c.target === undefined) return '';
  const ratio = c.ours / c.baseline;
  return (c.higherIsBetter ? ratio >= c.target : ratio <= c.target) ? 'PASS' : 'MISS';
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

function renderTable(headings: string[], rows: string[][]): string {
  const widths = headings.map((h, x) => Math.max(h.length, ...rows.map((r) => (r[x] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, x) => c.padEnd(widths[x]!)).join(' | ')} |`;
  return [line(headings), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join(
    '\n',
  );
}

/** The printed report of one bench: a markdown-style table plus notes. */
export function formatResult(name: string, r: BenchResult): string {
  const parts: string[] = [`## bench: ${name}`, ''];
  if (r.comparisons.length > 0) {
    parts.push(
      renderTable(
        ['metric', 'ours', 'baseline', 'baseline is', 'ours/baseline', 'target', 'result'],
        r.comparisons.map((c) => [
          c.metric,
          `${fmt(c.ours)} ${c.unit}`,
          `${fmt(c.baseline)} ${c.unit}`,
          c.baselineName,
          `${(c.ours / c.baseline).toFixed(2)}x`,
          c.targetText ?? '',
          verdict(c),
        ]),
      ),
    );
  }
  if (r.measurements.length > 0) {
    parts.push(
      '',
      renderTable(
        ['metric', 'value', 'target', 'result'],
        r.measurements.map((m) => [
          m.metric,
          `${fmt(m.value)} ${m.unit}`,
          m.targetText ?? '',
          m.max === undefined ? '' : m.value <= m.max ? 'PASS' : 'MISS',
        ]),
      ),
    );
  }
  if (r.notes.length > 0) parts.push('', ...r.notes.map((n) => `- ${n}`));
  return `${parts.join('\n')}\n`;
}
