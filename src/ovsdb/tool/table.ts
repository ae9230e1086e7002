/**
 * The tabular output of `ovsdb-client` (OVS lib/table.c): a caption, headings and rows of
 * cells, printed as an aligned text table (`--format=table`, the default) or as one JSON object
 * per table (`--format=json`).
 */
import { formatOvsJson } from './ovs-json.js';

/**
 * One cell: `text` is printed as-is (a JSON string in json format); `json` is a datum in wire
 * notation with `display` its text form for table format; `null` is an absent value (monitor
 * "old" rows list only the changed columns).
 */
export type Cell = { text: string } | { json: unknown; display: string } | null;

export interface OutputTable {
  caption?: string;
  headings: string[];
  rows: Cell[][];
}

export type OutputFormat = 'table' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json'];

export interface TableStyle {
  format: OutputFormat;
  /** JSON: pretty-print (OVS --pretty) */
  pretty?: boolean;
  /** table: print the heading and dashes lines (OVS default; --no-headings clears it) */
  headings?: boolean;
}

/**
 * Prints tables one after another as OVS does; in table format a blank line separates each
 * table from the previous one printed by the same printer.
 */
export class TablePrinter {
  private printed = 0;
  constructor(
    private readonly style: TableStyle,
    private readonly write: (text: string) => void,
  ) {}

  print(table: OutputTable): void {
    if (this.style.format === 'json') {
      this.write(`${renderJsonTable(table, this.style.pretty === true)}\n`);
    } else {
      this.write(`${this.printed > 0 ? '\n' : ''}${renderTextTable(table, this.style.headings !== false)}`);
    }
    this.printed++;
  }
}

export function renderJsonTable(table: OutputTable, pretty = false): string {
  const obj: Record<string, unknown> = {};
  if (table.caption !== undefined) obj.caption = table.caption;
  obj.headings = table.headings;
  obj.data = table.rows.map((row) =>
    row.map((cell) => (cell === null ? null : 'text' in cell ? cell.text : cell.json)),
  );
  return formatOvsJson(obj, { pretty });
}

const cellText = (cell: Cell): string => (cell === null ? '' : 'text' in cell ? cell.text : cell.display);
const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The aligned text table, lines ending in "\n" with trailing blanks removed (as OVS does). */
export function renderTextTable(table: OutputTable, headings = true): string {
  const texts = table.rows.map((row) => row.map(cellText));
  const widths = table.headings.map((h, x) => {
    let w = headings ? byteLength(h) : 0;
    for (const row of texts) w = Math.max(w, byteLength(row[x] ?? ''));
    return w;
  });
  const lines: string[] = [];
  if (table.caption !== undefined) lines.push(table.caption);
  const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - byteLength(s)));
  const finish = (cells: string[]): string => cells.join(' ').replace(/ +$/, '');
  if (headings) {
    lines.push(finish(table.headings.map((h, x) => pad(h, widths[x]!))));
    lines.push(finish(widths.map((w) => '-'.repeat(w))));
  }
  for (const row of texts) lines.push(finish(table.headings.map((_, x) => pad(row[x] ?? '', widths[x]!))));
  return lines.map((l) => `${l}\n`).join('');
}
