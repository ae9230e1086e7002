import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseListen, ListenAddressError } from '../../src/cli/util/k8s-sim.js';
import { isAlive, waitFor } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

describe('ovn-k8s-util k8s-sim', () => {
  const tmp = tempDir('k8scli-');
  afterAll(() => tmp.cleanup());

  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:6443')).toEqual({ host: '127.0.0.1', port: 6443 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('6443')).toThrow(ListenAddressError);
  });

  it('prints its URL when ready, serves, persists and stops cleanly on SIGTERM', async () => {
    const state = join(tmp.dir, 'state.json');
    const kc = join(tmp.dir, 'kc');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/ovn-k8s-util.ts',
        'k8s-sim',
        '--listen',
        '127.0.0.1:0',
        '--state',
        state,
        '--kubeconfig-out',
        kc,
        '--kubelet',
        '--endpoint-controller',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await waitFor(
        'URL line',
        async () => /^(http:\/\/127\.0\.0\.1:\d+)\n/.exec(out)?.[1],
        30_000,
      );
      expect(readFileSync(kc, 'utf8')).toContain(`server: ${url}`);
      const created = await fetch(`${url}/api/v1/namespaces/default/configmaps`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ metadata: { name: 'from-cli' }, data: { a: 'b' } }),
      });
      expect(created.status).toBe(201);
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      process.kill(child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(state)).toBe(true);
      expect(readFileSync(state, 'utf8')).toContain('from-cli');
      // the stop folded the change journal into the state file
      expect(existsSync(`${state}.journal`)).toBe(false);
    } finally {
      if (child.pid !== undefined && (await isAlive(child.pid))) process.kill(child.pid, 'SIGKILL');
    }
  });
});
