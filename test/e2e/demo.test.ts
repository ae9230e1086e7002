/**
 * `ovn-k8s-util demo` in-process: the sandbox (the simulator runs from dist/, so `npm run build`
 * first), the sample cluster, master-init, the watcher, the topology and five ovn-trace checks;
 * everything stopped by pid at the end.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAlive, run } from '../../src/runtime/process.js';
import { runDemo } from '../../src/sandbox/demo.js';
import { utilScript } from '../../src/sandbox/sandbox.js';
import { tempDir } from '../helpers/tmp.js';

describe('demo', () => {
  it('converges, prints the topology, passes every ovn-trace check and stops everything', async () => {
    if (!existsSync(utilScript()))
      await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { timeoutMs: 120_000 });
    const tmp = tempDir('wkm-');
    const lines: string[] = [];
    try {
      const code = await runDemo({ dir: `${tmp.dir}/s`, write: (l) => lines.push(l) });
      const out = lines.join('\n');
      expect(code, out).toBe(0);
      expect(out).toContain('router ovn_cluster_router');
      expect(out).toContain('router GR_master (chassis chassis-master)');
      expect(out).toMatch(/load balancer Service_web\/web_TCP_node_router/);
      expect(lines.filter((l) => l.startsWith('PASSED'))).toHaveLength(5);
      // egress of a node without a gateway: the cluster router's default route to GR_master, SNAT, localnet
      expect(out).toMatch(
        /^PASSED {2}a pod of a node without a gateway reaches the outside through the gateway: \S+ \(10\.128\.\d+\.\d+, worker[12]\) -> 1\.1\.1\.1:443 via GR_master, SNAT to 172\.18\.0\.10, out of breth0_master$/m,
      );
      expect(out).toContain('== all 5 checks passed');
      expect(out).not.toContain('FAILED');
      const info = JSON.parse(readFileSync(`${tmp.dir}/s/sandbox.json`, 'utf8')) as {
        pids: Record<string, number>;
      };
      for (const pid of Object.values(info.pids)) expect(await isAlive(pid)).toBe(false);
    } finally {
      tmp.cleanup();
    }
  }, 90_000);
});
