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

export type OutputFormat = 'table' | 'json' | 'csv' | 'html';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'csv', 'html'];

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
    const headings = this.style.headings !== false;
    const gap = this.printed > 0 ? '\n' : '';
    switch (this.style.format) {
      case 'json':
        this.write(`${renderJsonTable(table, this.style.pretty === true)}\n`);
        break;
      case 'csv':
        this.write(`${gap}${renderCsvTable(table, headings)}`);
        break;
      case 'html':
        this.write(renderHtmlTable(table, headings));
        break;
      default:
        this.write(`${gap}${renderTextTable(table, headings)}`);
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

/** A CSV field as OVS writes it: quoted (quotes doubled) only when it holds a newline, quote or comma. */
const csvField = (s: string): string => (/[\n",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** `--format=csv`: the caption line, the headings line, then one line per row. */
export function renderCsvTable(table: OutputTable, headings = true): string {
  const lines: string[] = [];
  if (table.caption !== undefined) lines.push(table.caption);
  if (headings) lines.push(table.headings.map(csvField).join(','));
  for (const row of table.rows)
    lines.push(table.headings.map((_, x) => csvField(cellText(row[x] ?? null))).join(','));
  return lines.map((l) => `${l}\n`).join('');
}

const htmlEscape = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));

const UUID_IN_TEXT = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;

/** A cell's text with every uuid in it turned into a link to the row it names (`#uuid`, 8 digits shown). */
const htmlCell = (text: string): string => {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(UUID_IN_TEXT)) {
    out += `${htmlEscape(text.slice(last, m.index))}<a href="#${m[0]}">${m[0].slice(0, 8)}</a>`;
    last = m.index + m[0].length;
  }
  return out + htmlEscape(text.slice(last));
};

/**
 * `--format=html`: one `<table border=1>` per table, laid out as OVS lays it out; a `_uuid` cell
 * is the anchor the links of other cells point to.
 */
export function renderHtmlTable(table: OutputTable, headings = true): string {
  const out: string[] = ['<table border=1>\n'];
  if (table.caption !== undefined) out.push(`    <caption>${htmlEscape(table.caption)}</caption>\n`);
  if (headings) {
    out.push('  <tr>\n');
    for (const h of table.headings) out.push(`    <th>${htmlCell(h)}</th>\n`);
    out.push('  </tr>\n');
  }
  for (const r of table.rows) {
    out.push('  <tr>\n');
    table.headings.forEach((h, x) => {
      const text = cellText(r[x] ?? null);
      out.push(
        h === '_uuid'
          ? `    <td><a name="${htmlEscape(text)}">${htmlEscape(text.slice(0, 8))}</a></td>\n`
          : `    <td>${htmlCell(text)}</td>\n`,
      );
    });
    out.push('  </tr>\n');
  }
  out.push('</table>\n');
  return out.join('');
}
