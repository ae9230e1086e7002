/**
 * `ovn-k8s-util` registers every subcommand cheaply and loads a subcommand's implementation only
 * when that subcommand runs: `--help` or `nics-to-bridge --help` must not pull in the Kubernetes
 * client, the simulator, the OVSDB client or the sandbox. The modules a command line loaded are
 * recorded by module resolution hooks (import-log-hooks.mjs) in a real child process.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NICS_TO_BRIDGE_OVS_ADDRESS } from '../../src/cli/util/nics-to-bridge.js';
import { DEFAULT_OVS_ADDRESS } from '../../src/node/ovs-config.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('lazy-');
afterAll(() => tmp.cleanup());

interface Loaded {
  code: number;
  stdout: string;
  /** resolved module URLs, relative to the repository for our own sources */
  modules: string[];
}

let runs = 0;

/** Runs `ovn-k8s-util ARGS` from the sources and returns what it printed and loaded. */
function util(args: string[]): Promise<Loaded> {
  const log = join(tmp.dir, `imports-${++runs}.log`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', './test/cli/import-log.mjs', 'src/cli/ovn-k8s-util.ts', ...args],
      { env: { ...process.env, OVN_K8S_IMPORT_LOG: log, NO_COLOR: '1' }, timeout: 30_000 },
      (err, stdout) => {
        if (err && typeof err.code !== 'number') return reject(err);
        const root = new URL('../../', import.meta.url).href;
        const modules = readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((u) => (u.startsWith(root) ? u.slice(root.length) : u));
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, modules });
      },
    );
  });
}

/** Module families a cheap command line must not load. */
const HEAVY = [
  /@kubernetes\/client-node/,
  /^src\/k8s\//,
  /^src\/ovsdb\//,
  /^src\/ovn\//,
  /^src\/sandbox\//,
  /^src\/node\//,
  /^src\/watcher\//,
  /^src\/cli\/util\/ovsdb-client-commands/,
];

const heavyIn = (modules: string[]) => modules.filter((m) => HEAVY.some((re) => re.test(m)));

describe('ovn-k8s-util loads subcommands on use', () => {
  it('--help lists every subcommand and loads none of their implementations', async () => {
    const r = await util(['--help']);
    expect(r.code).toBe(0);
    for (const name of ['k8s-sim', 'config', 'ctl', 'topology', 'nics-to-bridge', 'ovsdb-client', 'sandbox'])
      expect(r.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    // the hooks did record: the entry point and the registration modules are there
    expect(r.modules).toContain('src/cli/util/index.ts');
    expect(heavyIn(r.modules)).toEqual([]);
  });

  it('nics-to-bridge --help and ovsdb-client dump --help stay cheap', async () => {
    const nics = await util(['nics-to-bridge', '--help']);
    expect(nics.code).toBe(0);
    // commander wraps the help text: compare with the line breaks folded
    expect(nics.stdout.replace(/\s+/g, ' ')).toContain(`(default: "${DEFAULT_OVS_ADDRESS}")`);
    expect(heavyIn(nics.modules)).toEqual([]);
    const dump = await util(['ovsdb-client', 'dump', '--help']);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain('--format <format>');
    expect(heavyIn(dump.modules)).toEqual([]);
  });

  it('a subcommand that runs loads its implementation and nothing of the others', async () => {
    const r = await util(['ovsdb-client', 'list-dbs', `unix:${join(tmp.dir, 'nothing.sock')}`]);
    // no server there: it fails, but only after loading the OVSDB client to try
    expect(r.code).toBe(1);
    expect(r.modules).toContain('src/cli/util/ovsdb-client-commands.ts');
    expect(r.modules).toContain('src/ovsdb/client.ts');
    expect(r.modules.filter((m) => /client-node|^src\/(k8s|sandbox|watcher)\//.test(m))).toEqual([]);
  });

  it("nics-to-bridge's default --ovs-address is node/ovs-config's", () => {
    expect(NICS_TO_BRIDGE_OVS_ADDRESS).toBe(DEFAULT_OVS_ADDRESS);
  });
});
