/**
 * One election candidate in its own process, so a test can kill the leader by pid.
 * `node --import tsx elector-child.ts lease|lock` with ELECTOR_* variables; prints JSON lines.
 */
// modules are loaded per mode: @kubernetes/client-node alone takes seconds to load
import type { LeaderCallbacks } from '../../src/k8s/leader-election.js';

const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const identity = process.env.ELECTOR_ID!;
const callbacks: LeaderCallbacks = {
  onStartedLeading: () => say({ ev: 'leading', id: identity }),
  onStoppedLeading: () => say({ ev: 'stopped', id: identity }),
  onNewLeader: (leader) => say({ ev: 'leader', id: identity, leader }),
};

let stop: () => Promise<void>;
if (process.argv[2] === 'lease') {
  const { resolveConnection } = await import('../../src/k8s/connection.js');
  const { LeaseElector } = await import('../../src/k8s/leader-election.js');
  const { kubeConfig } = resolveConnection({
    flags: { server: process.env.ELECTOR_SERVER! },
    env: {},
    serviceAccountDir: '/nonexistent',
  });
  const e = new LeaseElector({
    kubeConfig,
    namespace: 'kube-system',
    name: 'ovn-k8s-watcher',
    identity,
    leaseDurationSeconds: 3,
    renewDeadlineMs: 2000,
    retryPeriodMs: 300,
    callbacks,
  });
  e.start();
  stop = () => e.stop();
} else {
  const { OvsdbDatabase } = await import('../../src/ovsdb/database.js');
  const { OvsdbLockElector } = await import('../../src/ha/ovsdb-lock-election.js');
  const db = new OvsdbDatabase({
    remotes: process.env.ELECTOR_REMOTE!,
    database: 'OVN_Northbound',
    tables: { NB_Global: { columns: ['name'] } },
  });
  db.start();
  await db.ready();
  const e = new OvsdbLockElector({ db, lockName: 'ovn-k8s-watcher', identity, callbacks });
  await e.start();
  say({ ev: 'known', id: identity, leader: e.isLeader });
  stop = async () => {
    await e.stop();
    await db.close();
  };
}
process.on('SIGTERM', () => {
  void stop().then(() => process.exit(0));
});
setInterval(() => undefined, 1000);
