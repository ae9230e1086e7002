import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsdbLockElector } from '../../src/ha/ovsdb-lock-election.js';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { startOvsdbServer, NB_SCHEMA, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { killPid, waitFor } from '../../src/runtime/process.js';
import { candidate, leads, stopCandidates } from './candidates.js';
import { tempDir } from '../helpers/tmp.js';

afterAll(stopCandidates);

describe('OVSDB lock election', () => {
  const tmp = tempDir('lck-');
  let nb: OvsdbServer;
  beforeAll(async () => {
    nb = await startOvsdbServer({ dir: tmp.dir, name: 'nb', schema: NB_SCHEMA });
  });
  afterAll(async () => {
    await nb?.stop();
    tmp.cleanup();
  });

  it('a clean stop hands the lock to the next waiter at once (in-process)', async () => {
    const open = () =>
      OvsdbDatabase.open({
        remotes: nb.unix,
        database: 'OVN_Northbound',
        tables: { NB_Global: { columns: ['name'] } },
      });
    const [d1, d2] = [await open(), await open()];
    try {
      const events: string[] = [];
      const e1 = new OvsdbLockElector({
        db: d1,
        lockName: 'ovn-k8s-watcher',
        identity: 'one',
        callbacks: {
          onStartedLeading: () => events.push('one leads'),
          onStoppedLeading: () => events.push('one stops'),
        },
      });
      const e2 = new OvsdbLockElector({
        db: d2,
        lockName: 'ovn-k8s-watcher',
        identity: 'two',
        callbacks: { onStartedLeading: () => events.push('two leads') },
      });
      expect(await e1.start()).toBe(true);
      expect(await e2.start()).toBe(false);
      expect(e2.leadershipKnown).toBe(true);
      expect(e1.lockId).toBe('ovn_k8s_watcher');
      await e1.stop();
      await waitFor('two leads', async () => e2.isLeader);
      expect(events).toEqual(['one leads', 'one stops', 'two leads']);
      await e2.stop();
    } finally {
      await d1.close();
      await d2.close();
    }
  });

  it('the lock holder leads; when its process is killed the waiting client gets the lock', async () => {
    const both = [
      candidate('lock', 'lock-a', { ELECTOR_REMOTE: nb.unix }),
      candidate('lock', 'lock-b', { ELECTOR_REMOTE: nb.tcp }),
    ];
    await waitFor('both asked', async () => both.every((c) => c.events.some((e) => e.ev === 'known')));
    const leader = both.find((c) => leads(c) === 1);
    expect(leader).toBeDefined();
    const standby = both.find((c) => c !== leader)!;
    expect(leads(standby)).toBe(0);

    await killPid(leader!.proc.pid!);
    await waitFor('the standby leads', async () => leads(standby) === 1);
  });
});
