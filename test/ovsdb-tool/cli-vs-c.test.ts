/**
 * `ovn-k8s-util ovsdb-client` against OVS's `ovsdb-client` on a real ovsdb-server: the same
 * command line must print the same bytes (uuids normalised where the two runs create different
 * rows), and bad input must fail with one line on stderr.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/runtime/process.js';
import { startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Ours runs as built (`npm run build`; dist/ starts in ~0.1 s). When dist/ is missing or older
 * than the sources of this command, the sources run through tsx instead (correct, but each call
 * then takes seconds).
 */
function cliArgs(): string[] {
  const built = 'dist/cli/util/ovsdb-client.js';
  const sources = [
    'src/cli/util/ovsdb-client.ts',
    'src/cli/util/ovsdb-client-commands.ts',
    ...readdirSync('src/ovsdb/tool').map((f) => `src/ovsdb/tool/${f}`),
  ];
  const fresh = existsSync(built) && sources.every((f) => statSync(f).mtimeMs <= statSync(built).mtimeMs);
  return fresh
    ? ['dist/cli/ovn-k8s-util.js', 'ovsdb-client']
    : ['--import', 'tsx', 'src/cli/ovn-k8s-util.ts', 'ovsdb-client'];
}
const CLI = cliArgs();

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const ours = (...args: string[]) => exec(process.execPath, [...CLI, ...args]);
const theirs = (...args: string[]) => exec('ovsdb-client', args);

/** Replaces every uuid by <uuid-N>, N counting distinct uuids in order of first appearance. */
function normaliseUuids(text: string): string {
  const seen = new Map<string, number>();
  return text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => {
    if (!seen.has(u)) seen.set(u, seen.size);
    return `<uuid-${seen.get(u)}>`;
  });
}

let tmp: { dir: string; cleanup(): void };
let server: OvsdbServer;
let S: string;

const SEED = JSON.stringify([
  'OVN_Northbound',
  {
    op: 'insert',
    table: 'Logical_Switch_Port',
    'uuid-name': 'p1',
    row: { name: 'p1', addresses: ['set', ['0a:58:0a:00:00:01 10.0.0.1']], tag_request: 7 },
  },
  {
    op: 'insert',
    table: 'Logical_Switch_Port',
    'uuid-name': 'p2',
    row: {
      name: 'p2',
      options: [
        'map',
        [
          ['requested-chassis', 'node1'],
          ['a', '1'],
        ],
      ],
      enabled: true,
      port_security: ['set', ['b', 'a']],
    },
  },
  {
    op: 'insert',
    table: 'Logical_Switch',
    row: {
      name: 'sw0',
      ports: [
        'set',
        [
          ['named-uuid', 'p1'],
          ['named-uuid', 'p2'],
        ],
      ],
    },
  },
  {
    op: 'insert',
    table: 'Logical_Switch',
    row: { name: 'sw1', external_ids: ['map', [['k8s.ovn.org/node', 'n "1"']]] },
  },
  { op: 'insert', table: 'Logical_Router', row: { name: 'r0', options: ['map', [['k', 'v']]] } },
  {
    op: 'insert',
    table: 'Load_Balancer',
    row: { name: 'lb', vips: ['map', [['10.96.0.1:443', '172.18.0.2:6443']]], protocol: 'tcp' },
  },
  {
    op: 'insert',
    table: 'NB_Global',
    row: { name: 'global', nb_cfg: 3, options: ['map', [['mac_prefix', '0a:58:00']]] },
  },
]);

beforeAll(async () => {
  tmp = tempDir('ovt-');
  server = await startOvsdbServer({ dir: tmp.dir, name: 'nb' });
  S = server.unix;
  const seeded = await run('ovsdb-client', ['transact', S, SEED]);
  expect(seeded).not.toContain('error');
}, 30_000);

afterAll(async () => {
  await server?.stop();
  tmp?.cleanup();
});

// read-only commands: safe to run side by side
describe.concurrent('same output as ovsdb-client', () => {
  const same = (label: string, args: () => string[]) =>
    it(label, async () => {
      const [a, b] = await Promise.all([theirs(...args()), ours(...args())]);
      expect(b.stderr).toBe('');
      expect(b.code).toBe(0);
      expect(a.code).toBe(0);
      expect(b.stdout.length).toBeGreaterThan(0);
      expect(b.stdout).toBe(a.stdout);
    });

  same('list-dbs', () => ['list-dbs', S]);
  same('get-schema of OVN_Northbound', () => ['get-schema', S, 'OVN_Northbound']);
  same('get-schema of _Server, pretty', () => ['get-schema', '--pretty', S, '_Server']);
  same('list-tables (default table format, OVS hash order)', () => ['list-tables', S, 'OVN_Northbound']);
  same('list-tables --format=json without a database argument', () => ['list-tables', S, '--format=json']);
  same('options before the command, as the C tool is usually called', () => [
    '-f',
    'json',
    '--pretty',
    'dump',
    S,
    'Logical_Switch_Port',
  ]);
  same('dump of the whole database as JSON', () => ['dump', S, 'OVN_Northbound', '--format=json']);
  same('dump of the whole database as text tables', () => ['dump', S, 'OVN_Northbound']);
  same('dump of one table with chosen columns', () => [
    'dump',
    S,
    'OVN_Northbound',
    'Logical_Switch_Port',
    'options',
    'name',
    'enabled',
    '--format=json',
  ]);
  same('dump of one table, pretty JSON, default database', () => [
    'dump',
    S,
    'Logical_Switch',
    '--format=json',
    '--pretty',
  ]);
  same('dump as CSV (quoting of commas and quotes)', () => ['dump', S, 'OVN_Northbound', '-f', 'csv']);
  same('dump as HTML (uuid anchors and links, escaping)', () => ['dump', S, 'OVN_Northbound', '-f', 'html']);
  same('list-tables as HTML without headings', () => ['list-tables', S, '-f', 'html', '--no-headings']);
  same('get-schema-version', () => ['get-schema-version', S, 'OVN_Northbound']);
  same('get-schema-cksum without a database argument', () => ['get-schema-cksum', S]);
  same('list-columns of one table (types in OVS normal form)', () => [
    'list-columns',
    S,
    'OVN_Northbound',
    'ACL',
  ]);
  same('list-columns of every table, hash-map order', () => ['list-columns', S, 'OVN_Northbound']);
  same('list-columns as JSON', () => ['list-columns', S, 'OVN_Northbound', 'Logical_Router', '-f', 'json']);
  same('query with a failing operation keeps the slot of the abort that never ran', () => [
    'query',
    S,
    JSON.stringify(['OVN_Northbound', { op: 'select', table: 'Nope', where: [] }]),
  ]);
  same('transact select', () => [
    'transact',
    S,
    JSON.stringify([
      'OVN_Northbound',
      { op: 'select', table: 'Logical_Switch', where: [], columns: ['name', 'ports', 'external_ids'] },
    ]),
  ]);
  same('transact with an operation error (printed result, exit 0)', () => [
    'transact',
    S,
    JSON.stringify([
      'OVN_Northbound',
      { op: 'comment', comment: 'x' },
      { op: 'select', table: 'Nope', where: [], x: [0.1, 1e20, 3.0] },
    ]),
  ]);
});

describe('transact that writes', () => {
  it('query answers a write as the C tool does (uuids normalised) and commits nothing', async () => {
    const q = JSON.stringify([
      'OVN_Northbound',
      { op: 'insert', table: 'Address_Set', row: { name: 'never' } },
      { op: 'select', table: 'Address_Set', where: [['name', '==', 'never']], columns: ['name'] },
    ]);
    const [a, b] = await Promise.all([theirs('query', S, q), ours('query', S, q)]);
    expect(b.code).toBe(0);
    expect(normaliseUuids(b.stdout)).toBe(normaliseUuids(a.stdout));
    expect(b.stdout).toContain('"never"');
    const dumped = await theirs('dump', S, 'OVN_Northbound', 'Address_Set');
    expect(dumped.stdout).not.toContain('never');
  });

  it('transact insert prints the same result shape (uuids normalised)', async () => {
    const txn = (n: string) =>
      JSON.stringify([
        'OVN_Northbound',
        {
          op: 'insert',
          table: 'Address_Set',
          row: { name: n, addresses: ['set', ['10.0.0.1', '10.0.0.2']] },
        },
        { op: 'select', table: 'Address_Set', where: [['name', '==', n]], columns: ['_uuid', 'addresses'] },
      ]);
    const a = await theirs('transact', S, txn('as-c'));
    const b = await ours('transact', '--pretty', S, txn('as-ours'));
    const a2 = await theirs('transact', '--pretty', S, txn('as-c2'));
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(normaliseUuids(b.stdout)).toBe(normaliseUuids(a2.stdout));
    expect(b.stdout).toContain('"uuid"');
  });
});

/** Runs both monitors, waits for their initial output, makes changes, stops both with SIGTERM. */
async function monitorBoth(
  args: string[],
  changes: string[],
  expectedLines: number,
  command = 'monitor',
): Promise<[string, string, number | null]> {
  const start = (cmd: string, argv: string[]) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const state = { out: '', code: undefined as number | null | undefined };
    child.stdout.setEncoding('utf8').on('data', (s: string) => (state.out += s));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { child, state, closed };
  };
  const c = start('ovsdb-client', [command, ...args]);
  const o = start(process.execPath, [...CLI, command, ...args]);
  const waitLines = async (n: number) => {
    const deadline = Date.now() + 20_000;
    while ([c, o].some((p) => p.state.out.split('\n').length - 1 < n)) {
      if (Date.now() > deadline)
        throw new Error(`monitor output: ${JSON.stringify([c.state.out, o.state.out])}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  try {
    await waitLines(1);
    for (const txn of changes) await run('ovsdb-client', ['transact', S, txn]);
    await waitLines(expectedLines);
  } finally {
    c.child.kill('SIGTERM');
    o.child.kill('SIGTERM');
  }
  const [, ourCode] = await Promise.all([c.closed, o.closed]);
  return [c.state.out, o.state.out, ourCode];
}

describe('monitor streams the same updates as ovsdb-client', () => {
  const NOT_SEEDED = [
    ['name', '!=', 'sw0'],
    ['name', '!=', 'sw1'],
  ];
  const changes = [
    JSON.stringify([
      'OVN_Northbound',
      { op: 'insert', table: 'Logical_Switch', row: { name: 'm1' } },
      { op: 'insert', table: 'Logical_Switch', row: { name: 'm2', other_config: ['map', [['x', 'y z']]] } },
      { op: 'insert', table: 'Logical_Switch', row: { name: 'm3' } },
    ]),
    JSON.stringify([
      'OVN_Northbound',
      {
        op: 'update',
        table: 'Logical_Switch',
        where: NOT_SEEDED,
        row: { other_config: ['map', [['k', '1']]] },
      },
    ]),
    JSON.stringify(['OVN_Northbound', { op: 'delete', table: 'Logical_Switch', where: NOT_SEEDED }]),
  ];

  it('JSON format, all columns: initial, insert, modify, delete; ours exits 0 on SIGTERM', async () => {
    const [c, o, code] = await monitorBoth(
      [S, 'OVN_Northbound', 'Logical_Switch', '--format=json'],
      changes,
      4,
    );
    expect(o.split('\n').length - 1).toBe(4);
    expect(o).toBe(c);
    expect(code).toBe(0);
  }, 40_000);

  it('text format, columns in two requests, one with !delete', async () => {
    // initial: heading, dashes, 2 rows; then a blank line, heading, dashes, 3 inserted rows
    const [c, o] = await monitorBoth(
      [S, 'OVN_Northbound', 'Logical_Switch', 'name', 'other_config,!delete'],
      changes.slice(0, 1),
      10,
    );
    expect(o).toContain('insert');
    expect(o).toBe(c);
  }, 40_000);

  it('CSV format: initial rows, then the inserted ones', async () => {
    // initial: heading + 2 rows; then a blank line, heading + 3 inserted rows
    const [c, o] = await monitorBoth(
      [S, 'OVN_Northbound', 'Logical_Switch', 'name,other_config', '--format=csv'],
      changes.slice(0, 1),
      8,
    );
    expect(o).toContain('insert');
    expect(o).toBe(c);
  }, 40_000);

  it('monitor-cond: only matching rows, table-updates2 (a modify shows the diff)', async () => {
    // rows of its own, so what the other tests leave behind does not matter: one initial row,
    // then a modify of it, a non-matching insert, and its delete (3 lines in all)
    const ls = (op: object) => JSON.stringify(['OVN_Northbound', { table: 'Logical_Switch', ...op }]);
    await run('ovsdb-client', [
      'transact',
      S,
      ls({ op: 'insert', row: { name: 'mc1', other_config: ['map', [['x', '1']]] } }),
    ]);
    const mine = [['name', '==', 'mc1']];
    const [c, o] = await monitorBoth(
      [S, 'OVN_Northbound', JSON.stringify(mine), 'Logical_Switch', 'name,other_config', '--format=json'],
      [
        ls({ op: 'update', where: mine, row: { other_config: ['map', [['k', '2']]] } }),
        ls({ op: 'insert', row: { name: 'mc-other' } }),
        ls({ op: 'delete', where: mine }),
      ],
      3,
      'monitor-cond',
    );
    expect(o).toContain('"modify"');
    expect(o).not.toContain('mc-other');
    expect(o.split('\n').length - 1).toBe(3);
    expect(o).toBe(c);
  }, 40_000);

  it('ALL tables (captions, tables in name order)', async () => {
    const [c, o] = await monitorBoth([S, 'OVN_Northbound', 'ALL', '--format=json'], [], 1);
    expect(o).toContain('"caption":"Logical_Switch"');
    expect(o).toBe(c);
  }, 40_000);
});

describe.concurrent('bad input: one line on stderr, non-zero exit', () => {
  const fails = (label: string, args: () => string[], pattern: RegExp) =>
    it(label, async () => {
      const r = await ours(...args());
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    });

  fails('unknown database', () => ['get-schema', S, 'Nope'], /no database named "Nope"/);
  fails('unknown database in a transaction', () => ['transact', S, '["Nope"]'], /unknown database/);
  fails('bad JSON', () => ['transact', S, '["OVN_Northbound",'], /not valid JSON/);
  fails('not a transaction', () => ['transact', S, '{"a":1}'], /not a valid OVSDB query/);
  fails(
    'unreachable unix server',
    () => ['list-dbs', `unix:${tmp.dir}/none.sock`],
    /cannot connect to unix:/,
  );
  fails(
    'unreachable tcp server',
    () => ['list-dbs', 'tcp:127.0.0.1:1'],
    /cannot connect to tcp:127\.0\.0\.1:1/,
  );
  fails('unknown table', () => ['dump', S, 'OVN_Northbound', 'Nope'], /no table "Nope"/);
  fails(
    'unknown column',
    () => ['monitor', S, 'OVN_Northbound', 'Logical_Switch', 'nope'],
    /does not have a column named "nope"/,
  );
  fails(
    'ssl without key files',
    () => ['list-dbs', 'ssl:127.0.0.1:1'],
    /--private-key, --certificate and --ca-cert/,
  );
  fails('unsupported format', () => ['list-tables', S, '--format=xml'], /unknown --format/);
});

describe('monitor when the server goes away', () => {
  it('fails with one line on stderr and a non-zero exit', async () => {
    const own = tempDir('ovm-');
    const srv = await startOvsdbServer({ dir: own.dir, name: 'nb' });
    try {
      const child = spawn(
        process.execPath,
        [...CLI, 'monitor', srv.unix, 'OVN_Northbound', 'NB_Global', '--format=json'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      // NB_Global is empty: wait until the monitor is registered on the server, then stop it
      const deadline = Date.now() + 20_000;
      while (
        !/monitors:[1-9]/.test(await run('ovs-appctl', ['-t', srv.ctl, 'memory/show']).catch(() => ''))
      ) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await srv.stop();
      const code = await closed;
      expect(code).not.toBe(0);
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/connection closed/);
    } finally {
      await srv.stop();
      own.cleanup();
    }
  }, 40_000);
});
