import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseElector, LeaderElectionConfigError } from '../../src/k8s/leader-election.js';
import { isAlive, killPid, waitFor } from '../../src/runtime/process.js';
import type { K8sSim } from '../../src/k8s/sim/index.js';
import { candidate, leads, stopCandidates } from './candidates.js';
import { startSim } from '../k8s/sim-helpers.js';

afterAll(stopCandidates);

describe('Kubernetes Lease election', () => {
  let sim: K8sSim;
  let kc: KubeConfig;
  beforeAll(async () => {
    ({ sim, kc } = await startSim());
  });
  afterAll(async () => {
    await sim?.stop();
  });
  const holder = async () =>
    (
      await kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: 'ovn-k8s-watcher', namespace: 'kube-system' })
    ).spec;

  it('one of two candidates leads; the standby takes over after the leader is killed', async () => {
    const both = [
      candidate('lease', 'watcher-a', { ELECTOR_SERVER: sim.url }),
      candidate('lease', 'watcher-b', { ELECTOR_SERVER: sim.url }),
    ];
    const leaderNow = () => both.find((c) => leads(c) === 1);
    const leader = await waitFor('one leads', async () => leaderNow());
    const standby = both.find((c) => c !== leader)!;
    const leaderId = leader === both[0] ? 'watcher-a' : 'watcher-b';
    const standbyId = leader === both[0] ? 'watcher-b' : 'watcher-a';
    await waitFor('the standby sees the leader', async () =>
      standby.events.some((e) => e.ev === 'leader' && e.leader === leaderId),
    );
    expect(leads(standby)).toBe(0);
    expect((await holder())?.holderIdentity).toBe(leaderId);

    await killPid(leader.proc.pid!);
    // lease duration is 3 s: the standby must take over well within the wait budget
    await waitFor('the standby leads', async () => leads(standby) === 1, 15_000);
    const spec = await holder();
    expect(spec?.holderIdentity).toBe(standbyId);
    expect(spec?.leaseTransitions).toBe(1);

    // a clean stop releases the lease (empty holder) and reports the end of leadership
    standby.proc.kill('SIGTERM');
    await waitFor('exited', async () => !(await isAlive(standby.proc.pid!)));
    expect(standby.events.some((e) => e.ev === 'stopped')).toBe(true);
    expect((await holder())?.holderIdentity).toBe('');
  });

  it('exactly one of several candidates racing for a free lease wins (optimistic concurrency)', async () => {
    const leaders = new Set<string>();
    const electors = ['r1', 'r2', 'r3'].map(
      (id) =>
        new LeaseElector({
          kubeConfig: kc,
          namespace: 'default',
          name: 'race',
          identity: id,
          leaseDurationSeconds: 10,
          renewDeadlineMs: 5000,
          retryPeriodMs: 200,
          callbacks: { onStartedLeading: () => leaders.add(id) },
        }),
    );
    for (const e of electors) e.start();
    await waitFor('someone leads', async () => leaders.size > 0);
    await waitFor('all know the leader', async () => electors.every((e) => e.leadershipKnown && e.leader));
    // several renew rounds later still one leader
    await new Promise((r) => setTimeout(r, 1000));
    expect(leaders.size).toBe(1);
    expect(electors.filter((e) => e.isLeader)).toHaveLength(1);
    for (const e of electors) await e.stop();
  });

  it('a leader that cannot renew steps down within renewDeadline, before anyone may take over', async () => {
    const events: string[] = [];
    const e = new LeaseElector({
      kubeConfig: kc,
      namespace: 'default',
      name: 'cut-off',
      identity: 'lonely',
      leaseDurationSeconds: 3,
      renewDeadlineMs: 1500,
      retryPeriodMs: 200,
      callbacks: {
        onStartedLeading: (signal) => {
          events.push('started');
          signal.addEventListener('abort', () => events.push('signal aborted'));
        },
        onStoppedLeading: () => events.push('stopped'),
      },
    });
    e.start();
    try {
      await waitFor('leads', async () => e.isLeader);
      sim.faults.setErrorRate(1);
      await waitFor('stepped down', async () => !e.isLeader, 10_000);
      expect(events).toEqual(['started', 'signal aborted', 'stopped']);
      sim.faults.reset();
      // the lease is still ours (nobody took it): we get it back
      await waitFor('leads again', async () => e.isLeader, 10_000);
      // a hanging API server (requests never answered in time) has the same effect
      sim.faults.setLatency(3_000);
      await waitFor('stepped down again', async () => !e.isLeader, 10_000);
      expect(events.filter((x) => x === 'stopped')).toHaveLength(2);
    } finally {
      sim.faults.reset();
      await e.stop();
    }
  });

  it('rejects inconsistent timings', () => {
    expect(
      () =>
        new LeaseElector({
          kubeConfig: kc,
          namespace: 'default',
          name: 'x',
          leaseDurationSeconds: 5,
          renewDeadlineMs: 6000,
        }),
    ).toThrow(LeaderElectionConfigError);
  });
});
