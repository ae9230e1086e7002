/**
 * The fixtures are the seeds' YAML documents, unchanged (formatters must leave them alone: the
 * lead keeps test/multinet/fixtures out of prettier). Seed 004's blocks are copied byte for byte;
 * seed 000's come from shell here-documents, indented in the text and with `${BRIDGE_NAME}`
 * expanded to the value the document sets (br1), so they are compared line by line, trimmed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const FIXTURES = join(import.meta.dirname, 'fixtures');
// The user's documents live in shared/ beside the repository (as CI lays it out).
const SEEDS = join(import.meta.dirname, '..', '..', '..', 'shared', 'seeds');
const seedFor = (f: string) =>
  f.startsWith('004-') ? '004_23ec8a6442cdd5e0.txt' : '000_724d801efd46840d.txt';
const trimLines = (t: string) =>
  t
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('\n');

describe.skipIf(!existsSync(SEEDS))('seed fixtures', () => {
  for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.yaml'))) {
    it(`${f} is the seed's text`, () => {
      const seed = readFileSync(join(SEEDS, seedFor(f)), 'utf8');
      const text = readFileSync(join(FIXTURES, f), 'utf8');
      if (f.startsWith('004-')) expect(seed).toContain(text);
      else expect(trimLines(seed)).toContain(trimLines(text.replace('"br1"', '"${BRIDGE_NAME}"')));
    });
  }
});
