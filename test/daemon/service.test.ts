import { join } from 'node:path';
import { Command } from 'commander';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register as registerCtl, resolveTarget } from '../../src/cli/util/ctl.js';
import { loadConfig } from '../../src/config/index.js';
import { sendControl } from '../../src/daemon/index.js';
import { Service } from '../../src/daemon/service.js';
import { EventReasons } from '../../src/k8s/events.js';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import { waitFor } from '../../src/runtime/process.js';
import { startSim } from '../k8s/sim-helpers.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('svc-');
let sim: K8sSim;
let kc: KubeConfig;
const services: Service[] = [];

beforeAll(async () => {
  ({ sim, kc } = await startSim());
});
afterAll(async () => {
  for (const s of services) await s.shutdown('test over');
  await sim?.stop();
  tmp.cleanup();
});

function config(identity: string) {
  return loadConfig({
    env: {},
    configFile: join(tmp.dir, 'none.conf'),
    flags: {
      metrics_address: '127.0.0.1:0',
      leader_election: 'lease',
      leader_election_namespace: 'default',
      leader_election_identity: identity,
      lease_duration: '3',
      renew_deadline: '2',
      retry_period: '1',
      log_level: 'warn',
    },
  });
}

async function start(identity: string): Promise<Service> {
  const s = await Service.start({
    name: 'svc-test',
    config: config(identity),
    daemon: { ctlSocket: join(tmp.dir, `${identity}.ctl`) },
    kubeConfig: kc,
    exitProcess: false,
  });
  services.push(s);
  return s;
}

describe('Service: daemon + metrics + Lease election + ctl', () => {
  it('is ready only once synced and leadership is known; one leads, the other stands by', async () => {
    const a = await start('svc-a');
    const url = a.metricsServer!.url;
    const resyncs: number[] = [];
    a.onResync(() => {
      resyncs.push(Date.now());
      return 'resync queued';
    });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    await a.startElection();
    await waitFor('a leads', async () => a.elector.isLeader);
    expect(await (await fetch(`${url}/readyz`)).text()).toContain('caches not synced');
    await a.markSynced();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^ovnk8s_leader 1$/m);

    const b = await start('svc-b');
    await b.startElection();
    await waitFor('b knows the leader', async () => b.elector.leadershipKnown);
    await b.markSynced();
    expect(b.elector.isLeader).toBe(false);
    expect((await fetch(`${b.metricsServer!.url}/readyz`)).status).toBe(200);

    const status = (await sendControl(join(tmp.dir, 'svc-a.ctl'), 'status')) as Record<string, unknown>;
    expect(status).toMatchObject({
      name: 'svc-test',
      synced: true,
      leader: true,
      identity: 'svc-a',
      ready: true,
    });
    expect(await sendControl(join(tmp.dir, 'svc-a.ctl'), 'resync')).toBe('resync queued');
    expect(resyncs).toHaveLength(1);
    await expect(sendControl(join(tmp.dir, 'svc-b.ctl'), 'resync')).rejects.toThrow(/not available/);

    // Events go through the recorder and are counted
    await a.events!.warn(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'u1' } },
      EventReasons.SubnetExhausted,
      'no subnet left',
    );
    const evs = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: 'default' });
    expect(evs.items.some((e) => e.reason === 'SubnetExhausted' && e.source?.component === 'svc-test')).toBe(
      true,
    );
    expect(await (await fetch(`${url}/metrics`)).text()).toContain(
      'ovnk8s_kubernetes_events_total{reason="SubnetExhausted",type="Warning"} 1',
    );

    // the leader shuts down cleanly: it releases the lease and the standby leads
    await a.shutdown('test');
    await waitFor('b leads', async () => b.elector.isLeader, 15_000);
  });

  it('`ovn-k8s-util ctl` talks to the socket', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      out.push(String(c));
      return true;
    });
    try {
      const program = new Command().exitOverride();
      registerCtl(program);
      await program.parseAsync([
        'node',
        'x',
        'ctl',
        '--target',
        join(tmp.dir, 'svc-b.ctl'),
        'loglevel',
        'debug',
      ]);
      await program.parseAsync(['node', 'x', 'ctl', '--target', join(tmp.dir, 'svc-b.ctl'), 'status']);
    } finally {
      spy.mockRestore();
    }
    expect(out[0]).toBe('debug\n');
    expect(JSON.parse(out[1]!)).toMatchObject({ identity: 'svc-b', leader: true, logLevel: 'debug' });
    expect(resolveTarget(undefined, '/run/x')).toBe('/run/x/ovn-k8s-watcher.ctl');
    expect(resolveTarget('ovn-k8s-node', '/run/x')).toBe('/run/x/ovn-k8s-node.ctl');
  });
});
