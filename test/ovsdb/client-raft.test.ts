/** monitor_cond_since against a real 3-member RAFT cluster, where the server keeps transaction history. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OvsdbClient,
  ZERO_UUID,
  type MonitorNotification,
  type TableUpdates,
} from '../../src/ovsdb/client.js';
import { startRaftCluster, type RaftCluster } from '../../src/runtime/ovsdb-server.js';
import { tempDir } from '../helpers/tmp.js';

const NB = 'OVN_Northbound';
const REQ = { Logical_Switch: [{ columns: ['name'] }] };
let tmp: ReturnType<typeof tempDir>;
let cluster: RaftCluster;

beforeAll(async () => {
  tmp = tempDir('h1r-');
  cluster = await startRaftCluster({ dir: tmp.dir });
});

afterAll(async () => {
  await cluster?.stop();
  tmp?.cleanup();
});

const names = (u: TableUpdates) =>
  Object.values((u.Logical_Switch ?? {}) as Record<string, Record<string, { name?: string }>>).map(
    (row) => (row.initial ?? row.insert)?.name,
  );

describe('monitor_cond_since on a RAFT cluster', () => {
  it('resumes from the last-txn-id with found=true and only the changes since then', async () => {
    const leader = cluster.members[await cluster.leader()]!;
    const writer = await OvsdbClient.connect(leader.unix, { probeIntervalMs: 0 });
    const watcher = await OvsdbClient.connect(leader.tcp, { probeIntervalMs: 0 });
    try {
      const first = await watcher.monitorCondSince(NB, 'w', REQ);
      expect(first.found).toBe(false);
      expect(first.lastTxnId).not.toBe(ZERO_UUID);

      const seen: MonitorNotification[] = [];
      watcher.setMonitorHandler('w', (n) => seen.push(n));
      for (const name of ['r1', 'r2', 'r3']) {
        await writer.transact(NB, [{ op: 'insert', table: 'Logical_Switch', row: { name } }]);
      }
      await watcher.echo(); // updates for committed writes precede this reply on the watcher's session
      await new Promise((r) => setTimeout(r, 200));
      const updates3 = seen.filter(
        (n): n is Extract<MonitorNotification, { method: 'update3' }> => n.method === 'update3',
      );
      expect(updates3.length).toBeGreaterThanOrEqual(1);
      const resumeFrom = updates3[updates3.length - 1]!.lastTxnId;
      expect(resumeFrom).not.toBe(first.lastTxnId);
      watcher.close();

      // more writes while nobody watches
      await writer.transact(NB, [{ op: 'insert', table: 'Logical_Switch', row: { name: 'r4' } }]);
      await writer.transact(NB, [{ op: 'insert', table: 'Logical_Switch', row: { name: 'r5' } }]);

      const again = await OvsdbClient.connect(leader.unix, { probeIntervalMs: 0 });
      try {
        const resumed = await again.monitorCondSince(NB, 'w', REQ, resumeFrom);
        expect(resumed.found).toBe(true);
        expect(names(resumed.updates).sort()).toEqual(['r4', 'r5']);
        const best = await again.monitorBest(NB, 'w2', REQ, resumed.lastTxnId);
        expect(best).toMatchObject({ method: 'monitor_cond_since', found: true, updates: {} });
        // an id the server never saw is not found: full contents instead
        const fresh = await again.monitorCondSince(NB, 'w3', REQ, '7e5a6b1c-0000-4000-8000-000000000000');
        expect(fresh.found).toBe(false);
        expect(names(fresh.updates).sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
      } finally {
        again.close();
      }
    } finally {
      writer.close();
      watcher.close();
    }
  });
});
