import { afterAll, describe, expect, it } from 'vitest';
import { startOvnCentral, type OvnCentral } from '../src/runtime/ovn-central.js';
import { startRaftCluster, type RaftCluster } from '../src/runtime/ovsdb-server.js';
import { isAlive, killPid, run } from '../src/runtime/process.js';
import { tempDir } from './helpers/tmp.js';

describe('test runtime: real OVN daemons started and stopped by pid', () => {
  const tmp = tempDir();
  let central: OvnCentral | undefined;
  let cluster: RaftCluster | undefined;
  afterAll(async () => {
    await central?.stop();
    await cluster?.stop();
    tmp.cleanup();
  });

  it('starts NB, SB and northd, and northd compiles NB into SB', async () => {
    central = await startOvnCentral({ dir: `${tmp.dir}/c` });
    await central.nbctl('ls-add', 'sw0');
    await central.syncSb();
    expect(await central.sbctl('--bare', '--columns=external_ids', 'list', 'Datapath_Binding')).toContain(
      'sw0',
    );
    const pids = [central.northdPid, central.nb.pid, central.sb.pid];
    await central.stop();
    for (const p of pids) expect(await isAlive(p)).toBe(false);
    central = undefined;
  });

  it('forms a 3-member RAFT cluster that elects a new leader after the old one is killed', async () => {
    cluster = await startRaftCluster({ dir: `${tmp.dir}/r` });
    const leader = await cluster.leader();
    await run('ovn-nbctl', [`--db=${cluster.remotes}`, '--timeout=20', 'init']);
    await killPid(cluster.members[leader]!.pid);
    const next = await cluster.leader();
    expect(next).not.toBe(leader);
    const others = cluster.members
      .filter((_, i) => i !== leader)
      .map((m) => m.tcp)
      .join(',');
    await run('ovn-nbctl', [`--db=${others}`, '--timeout=20', 'ls-add', 'after-failover']);
    expect(await run('ovn-nbctl', [`--db=${others}`, '--timeout=20', 'ls-list'])).toContain('after-failover');
  });
});
