/**
 * Label selectors (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`) and field
 * selectors (`path=v`, `path==v`, `path!=v`) in their query-string forms.
 */
import { ApiError } from './errors.js';
import { getPath, type KubeObject } from './types.js';

export class SelectorParseError extends ApiError {
  constructor(message: string) {
    super(400, 'BadRequest', message);
    this.name = 'SelectorParseError';
  }
}

type LabelOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists';
interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

const SET_RE = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/;

function parseLabelTerm(term: string): LabelRequirement {
  const set = SET_RE.exec(term);
  if (set) {
    const values = set[3]!
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
    return { key: set[1]!, op: set[2] as 'in' | 'notin', values };
  }
  if (term.startsWith('!')) {
    const key = term.slice(1).trim();
    if (!key || /[=\s]/.test(key)) throw new SelectorParseError(`unable to parse requirement: "${term}"`);
    return { key, op: '!exists', values: [] };
  }
  for (const op of ['!=', '==', '='] as const) {
    const at = term.indexOf(op);
    if (at > 0) {
      return {
        key: term.slice(0, at).trim(),
        op: op === '!=' ? '!=' : '=',
        values: [term.slice(at + op.length).trim()],
      };
    }
  }
  if (/[\s=!()]/.test(term)) throw new SelectorParseError(`unable to parse requirement: "${term}"`);
  return { key: term, op: 'exists', values: [] };
}

export type Matcher = (obj: KubeObject) => boolean;

function matchLabel(req: LabelRequirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels![req.key] : undefined;
  switch (req.op) {
    case '=':
      return has && value === req.values[0];
    case '!=':
      return !has || value !== req.values[0];
    case 'in':
      return has && req.values.includes(value!);
    case 'notin':
      return !has || !req.values.includes(value!);
    case 'exists':
      return has;
    case '!exists':
      return !has;
  }
}

export function parseLabelSelector(s: string | null | undefined): Matcher | undefined {
  if (!s || !s.trim()) return undefined;
  const reqs = splitTopLevel(s).map(parseLabelTerm);
  return (obj) => reqs.every((r) => matchLabel(r, obj.metadata.labels));
}

/** A map selector (Service.spec.selector): every pair must match. An empty map matches nothing here. */
export function matchesMapSelector(
  selector: Record<string, string>,
  labels: Record<string, string> | undefined,
): boolean {
  const keys = Object.keys(selector);
  if (keys.length === 0 || !labels) return false;
  return keys.every((k) => labels[k] === selector[k]);
}

function fieldValue(obj: KubeObject, path: string): string {
  const v = getPath(obj, path);
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

/** Field selector values escape `\,` `\=` `\\`; split on unescaped commas. */
function splitFieldTerms(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

function unescapeField(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

export interface FieldRequirement {
  path: string;
  negate: boolean;
  value: string;
}

export function parseFieldRequirements(s: string | null | undefined): FieldRequirement[] {
  if (!s || !s.trim()) return [];
  return splitFieldTerms(s).map((term) => {
    for (const op of ['!=', '==', '='] as const) {
      const at = term.indexOf(op);
      if (at > 0) {
        return {
          path: term.slice(0, at).trim(),
          negate: op === '!=',
          value: unescapeField(term.slice(at + op.length).trim()),
        };
      }
    }
    throw new SelectorParseError(`invalid field selector: "${term}": expected an operator`);
  });
}

export function fieldMatcher(reqs: FieldRequirement[]): Matcher | undefined {
  if (reqs.length === 0) return undefined;
  return (obj) => reqs.every((r) => (fieldValue(obj, r.path) === r.value) !== r.negate);
}

export function parseFieldSelector(s: string | null | undefined): Matcher | undefined {
  return fieldMatcher(parseFieldRequirements(s));
}

/** Combines optional matchers into one (undefined when all are absent: match everything). */
export function allOf(...ms: (Matcher | undefined)[]): Matcher | undefined {
  const present = ms.filter((m): m is Matcher => m !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return (obj) => present.every((m) => m(obj));
}
