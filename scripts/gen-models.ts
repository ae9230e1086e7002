/**
 * Generates the typed table models in src/ovn/models from the schemas in schemas/.
 *
 *   tsx scripts/gen-models.ts            write the models
 *   tsx scripts/gen-models.ts --check    exit 1, naming the files, when regenerating would change anything
 *   tsx scripts/gen-models.ts --out DIR  write into (or, with --check, compare against) DIR instead (tests)
 *
 * Per table: a row type whose columns follow value.ts (enums as literal unions, optional as
 * `T | null`, sets as arrays, string-keyed maps as Record, other maps as Map), with the schema
 * constraints in comments; per database: table name constants, a name → row type map, the schema
 * JSON embedded, and a lazy parsed DatabaseSchema, so code needs no server to know the schema.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import {
  columnKind,
  parseSchema,
  type BaseType,
  type ColumnSchema,
  type TableSchema,
} from '../src/ovsdb/schema.js';
import { parseJson } from '../src/ovsdb/wire/json.js';
import type { Atom } from '../src/ovsdb/value.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODELS_DIR = 'src/ovn/models';

interface Source {
  /** schema file under schemas/ */
  schemaFile: string;
  /** output module name under src/ovn/models */
  module: string;
  /** identifier prefix: nbSchema, NbTable, NbTables … */
  prefix: string;
}

export const SOURCES: Source[] = [
  { schemaFile: 'ovn-nb.ovsschema', module: 'nb', prefix: 'nb' },
  { schemaFile: 'vswitch.ovsschema', module: 'vswitch', prefix: 'vswitch' },
  { schemaFile: '_server.ovsschema', module: 'server', prefix: 'server' },
];

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Logical_Switch_Port → LogicalSwitchPort, NB_Global → NBGlobal, sFlow → SFlow */
export function typeName(table: string): string {
  return table
    .split('_')
    .filter((p) => p.length > 0)
    .map(upperFirst)
    .join('');
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function literal(a: Atom): string {
  if (typeof a === 'bigint') return `${a}n`;
  return JSON.stringify(a);
}

/** The TypeScript type of one atom of a base type. */
function atomType(base: BaseType): string {
  if (base.enum)
    return [...base.enum].map((a) => (typeof a === 'bigint' ? a.toString() : literal(a))).join(' | ');
  switch (base.type) {
    case 'integer': {
      // number unless the bounds allow values beyond 2^53, which arrive as bigint (value.ts)
      const lo = base.minInteger;
      const hi = base.maxInteger;
      const safe = lo !== undefined && hi !== undefined && BigInt(lo) >= -MAX_SAFE && BigInt(hi) <= MAX_SAFE;
      return safe ? 'number' : 'number | bigint';
    }
    case 'real':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'string':
    case 'uuid':
      return 'string';
  }
}

function wrapUnion(t: string): string {
  return t.includes('|') ? `(${t})` : t;
}

function columnTsType(col: ColumnSchema): string {
  const { type } = col;
  switch (columnKind(type)) {
    case 'scalar':
      return atomType(type.key);
    case 'optional':
      return `${atomType(type.key)} | null`;
    case 'set':
      return `${wrapUnion(atomType(type.key))}[]`;
    case 'map': {
      const v = atomType(type.value!);
      if (type.key.type === 'string') return `Record<string, ${v}>`;
      return `Map<${atomType(type.key)}, ${v}>`;
    }
  }
}

function describeBase(base: BaseType, role: string): string[] {
  const out: string[] = [];
  const r = role ? `${role} ` : '';
  if (base.refTable) out.push(`${r}refTable ${base.refTable} (${base.refType ?? 'strong'})`);
  if (base.minInteger !== undefined || base.maxInteger !== undefined) {
    out.push(`${r}integer ${base.minInteger ?? '-inf'}..${base.maxInteger ?? 'inf'}`);
  }
  if (base.minReal !== undefined || base.maxReal !== undefined) {
    out.push(`${r}real ${base.minReal ?? '-inf'}..${base.maxReal ?? 'inf'}`);
  }
  if (base.minLength !== undefined || base.maxLength !== undefined) {
    out.push(`${r}length ${base.minLength ?? 0}..${base.maxLength ?? 'inf'} code points`);
  }
  if (base.enum && role && base.type === 'string')
    out.push(`${r}one of ${base.enum.map((a) => literal(a)).join(', ')}`);
  return out;
}

function columnComment(col: ColumnSchema): string {
  const { type } = col;
  const parts: string[] = [];
  const kind = columnKind(type);
  if (kind === 'set' || kind === 'map') parts.push(`${kind}, ${type.min}..${type.max} elements`);
  parts.push(...describeBase(type.key, kind === 'map' ? 'key' : ''));
  if (type.value) parts.push(...describeBase(type.value, 'value'));
  if (!col.mutable) parts.push('immutable');
  if (col.ephemeral) parts.push('ephemeral');
  return parts.length ? `  /** ${parts.join('; ')} */\n` : '';
}

function tableComment(t: TableSchema): string {
  const parts = [
    `${t.name}: ${t.isRoot ? 'root table' : 'non-root table (rows without strong references are garbage-collected)'}`,
  ];
  if (t.maxRows !== undefined) parts.push(`maxRows ${t.maxRows}`);
  if (t.indexes.length) parts.push(`unique indexes: ${t.indexes.map((i) => `(${i.join(', ')})`).join(', ')}`);
  return `/** ${parts.join('; ')} */\n`;
}

/** A JS literal of parsed schema JSON (bigint-aware, keys quoted; prettier tidies it). */
function jsLiteral(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `[${v.map(jsLiteral).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${jsLiteral(x)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(v);
}

export function renderModule(src: Source, schemaText: string): string {
  const json = parseJson(schemaText);
  const schema = parseSchema(json);
  const p = src.prefix;
  const P = upperFirst(p);
  const tables = [...schema.tables.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let out = `// generated by scripts/gen-models.ts from schemas/${src.schemaFile}, do not edit (npm run gen)\n`;
  out += `/* ${schema.name} ${schema.version}${schema.cksum ? ` (cksum ${schema.cksum})` : ''} */\n`;
  out += `import { parseSchema, type DatabaseSchema } from '../../ovsdb/schema.js';\n\n`;
  out += `export const ${p.toUpperCase()}_DB = ${JSON.stringify(schema.name)};\n`;
  out += `export const ${p.toUpperCase()}_SCHEMA_VERSION = ${JSON.stringify(schema.version)};\n\n`;
  for (const t of tables) {
    out += tableComment(t);
    out += `export type ${typeName(t.name)} = {\n`;
    out += `  _uuid: string;\n  _version?: string;\n`;
    for (const col of [...t.columns.values()].filter((c) => !c.name.startsWith('_'))) {
      out += columnComment(col);
      out += `  ${col.name}: ${columnTsType(col)};\n`;
    }
    out += `};\n\n`;
  }
  out += `/** Table names of ${schema.name}. */\n`;
  out += `export const ${P}Table = {\n${tables.map((t) => `  ${t.name}: ${JSON.stringify(t.name)},\n`).join('')}} as const;\n`;
  out += `export type ${P}TableName = keyof typeof ${P}Table;\n\n`;
  out += `/** Table name → row type. */\n`;
  out += `export type ${P}Tables = {\n${tables.map((t) => `  ${t.name}: ${typeName(t.name)};\n`).join('')}};\n\n`;
  out += `/** The schema exactly as in schemas/${src.schemaFile}. */\n`;
  out += `export const ${p}SchemaJson = ${jsLiteral(json)} as const;\n\n`;
  out += `let ${p}SchemaParsed: DatabaseSchema | undefined;\n\n`;
  out += `/** The parsed ${schema.name} schema (parsed once, on first use). */\n`;
  out += `export function ${p}Schema(): DatabaseSchema {\n  return (${p}SchemaParsed ??= parseSchema(${p}SchemaJson));\n}\n`;
  return out;
}

function renderIndex(): string {
  let out = `// generated by scripts/gen-models.ts, do not edit (npm run gen)\n`;
  for (const s of SOURCES) out += `export * as ${s.prefix} from './${s.module}.js';\n`;
  return out;
}

async function format(code: string, file: string): Promise<string> {
  const config = (await prettier.resolveConfig(join(ROOT, file))) ?? {};
  return prettier.format(code, { ...config, filepath: join(ROOT, file), parser: 'typescript' });
}

/** Every generated file: path relative to the repository → formatted contents. */
export async function generate(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const s of SOURCES) {
    const text = readFileSync(join(ROOT, 'schemas', s.schemaFile), 'utf8');
    const file = `${MODELS_DIR}/${s.module}.ts`;
    files.set(file, await format(renderModule(s, text), file));
  }
  const index = `${MODELS_DIR}/index.ts`;
  files.set(index, await format(renderIndex(), index));
  return files;
}

/** Files whose committed contents differ from what generate() gives (missing files included). */
export async function staleFiles(root = ROOT): Promise<string[]> {
  const stale: string[] = [];
  for (const [file, contents] of await generate()) {
    const path = join(root, file);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== contents) stale.push(file);
  }
  return stale;
}

async function main(argv: string[]): Promise<number> {
  // --out DIR (alias --root): treat DIR as the repository root for writing or checking (tests)
  const outIdx = Math.max(argv.indexOf('--out'), argv.indexOf('--root'));
  const root = outIdx >= 0 ? resolve(argv[outIdx + 1] ?? '.') : ROOT;
  if (argv.includes('--check')) {
    const stale = await staleFiles(root);
    if (stale.length) {
      for (const f of stale) console.error(`${f} is out of date: run npm run gen`);
      return 1;
    }
    console.log('generated models are up to date');
    return 0;
  }
  for (const [file, contents] of await generate()) {
    const path = join(root, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
    console.log(`wrote ${path}`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(2);
    },
  );
}
