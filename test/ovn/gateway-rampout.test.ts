/**
 * Ramp-out subnets (gateway-init --rampout-ip-subnets) proved with the real ovn-northd and
 * ovn-trace: two gateways, node1 and node2, and node3 without a gateway. node2 ramps out node3's
 * subnet, so node3's pods leave by GR_node2 on every ECMP selection, where without ramp-out they
 * are hashed over both gateways. The steps build on each other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterIntent, type ClusterState, type NodeInfo } from '../../src/ovn/intent/index.js';
import { CLUSTER_ROUTER } from '../../src/ovn/names.js';
import { reconcileOwned } from '../../src/ovn/reconcile/index.js';
import type { NbOperation } from '../../src/ovn/reconcile/operations.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { tempDir } from '../helpers/tmp.js';
import { config, node1, pod } from './fixture.js';
import {
  A1,
  C1,
  type PodEnd,
  clusterRoutes,
  gatewayExit,
  gateway2,
  learnNeighbours,
  node3,
  tracePing,
} from './egress-harness.js';
import { snapshotView, transact } from './nb-harness.js';

const tmp = tempDir('ovnramp-');
let central: OvnCentral;

const node2: NodeInfo = { name: 'node2', subnets: ['10.128.2.0/23'], gateway: gateway2 };
const withRampout = (n: NodeInfo, rampoutSubnets: string[]): NodeInfo => ({
  ...n,
  gateway: { ...n.gateway!, rampoutSubnets },
});

const state: ClusterState = {
  config,
  nodes: [node1, node2, node3],
  pods: [
    pod('default', 'a1', 'node1', '10.128.0.5/23', 'uid-a1'),
    pod('default', 'c1', 'node3', '10.128.4.5/23', 'uid-c1'),
  ],
  services: [],
};

/** a ping from `p` to `dst`, taking ECMP member `selectId` wherever a group is met */
const trace = (p: PodEnd, selectId: number, dst?: string): Promise<string> =>
  tracePing(central, p, { selectId, ...(dst === undefined ? {} : { dst }) });

/** which gateway router a traced packet entered, the address it was SNATed to, the port it left by */
function exit(out: string): { gr: string | undefined; snat: string | undefined; out: string | undefined } {
  return { ...gatewayExit(out), out: /output to "(breth0_\w+)"/.exec(out)?.[1] };
}
/** the gateways a pod's traffic leaves by over both ECMP selections, sorted */
async function exits(p: PodEnd): Promise<string[]> {
  const grs = [];
  for (const id of [1, 2]) grs.push(String(exit(await trace(p, id)).gr));
  return grs.sort();
}

async function apply(): Promise<NbOperation[]> {
  const result = reconcileOwned(await snapshotView(central.nb.unix), clusterIntent(state));
  expect(result.skipped).toEqual([]);
  await transact(central.nb.unix, result.operations);
  await central.syncSb();
  return result.operations;
}

beforeAll(async () => {
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  await apply();
  await learnNeighbours(central, 'node1');
  await learnNeighbours(central, 'node2');
}, 60_000);

afterAll(async () => {
  await central?.stop();
  tmp.cleanup();
});

describe('ramp-out subnets pin sources to a gateway (ovn-trace)', () => {
  it('without ramp-out, a pod on a node without a gateway is hashed over both gateways', async () => {
    expect(await exits(C1)).toEqual(['GR_node1', 'GR_node2']);
  });

  it("with node3's subnet ramped out to node2, its pod leaves by GR_node2 on every selection", async () => {
    state.nodes[1] = withRampout(node2, ['10.128.4.0/23']);
    const ops = await apply();
    // one route added, nothing else rewritten
    expect(ops.filter((o) => o.op === 'update' || o.op === 'delete')).toEqual([]);
    expect(
      ops.flatMap((o) => (o.op === 'insert' ? [[o.table, o.row.ip_prefix, o.row.nexthop]] : [])),
    ).toEqual([['Logical_Router_Static_Route', '10.128.4.0/23', '100.64.0.3']]);
    expect(await clusterRoutes(central)).toEqual([
      'dst-ip 0.0.0.0/0 via 100.64.0.2',
      'dst-ip 0.0.0.0/0 via 100.64.0.3',
      'src-ip 10.128.0.0/23 via 100.64.0.2',
      'src-ip 10.128.2.0/23 via 100.64.0.3',
      'src-ip 10.128.4.0/23 via 100.64.0.3',
    ]);
    for (const id of [1, 2]) {
      const out = await trace(C1, id);
      // the src-ip route of the ramp-out subnet, not the ECMP default route, carries it
      expect(out).toMatch(/lr_in_ip_routing \(northd\.c:\d+\): ip4\.src == 10\.128\.4\.0\/23, priority \d+,/);
      expect(out).not.toContain('select(');
      expect(exit(out)).toEqual({ gr: 'GR_node2', snat: '172.18.0.12', out: 'breth0_node2' });
    }
    // converged: a restart (the same intent over this NB) writes nothing
    expect(reconcileOwned(await snapshotView(central.nb.unix), clusterIntent(state)).operations).toEqual([]);
    // node1's pods still leave by their own gateway, and pod-to-pod traffic of node3 stays inside
    expect(await exits(A1)).toEqual(['GR_node1', 'GR_node1']);
    const toA1 = await trace(C1, 1, A1.ip);
    expect(toA1).toContain(`output to "${A1.port}"`);
    expect(exit(toA1).gr).toBeUndefined();
  });

  it('both gateways ramping out the same subnet: one route each, which ovn-northd load-balances', async () => {
    state.nodes[0] = withRampout(node1, ['10.128.4.0/23']);
    await apply();
    await expect(clusterRoutes(central)).resolves.toContain('src-ip 10.128.4.0/23 via 100.64.0.2');
    const lflows = await central.sbctl('lflow-list', CLUSTER_ROUTER);
    expect(lflows).toMatch(/match=\(ip4\.src == 10\.128\.4\.0\/23\), action=\([^)]*select\(1, 2\)/);
    expect(await exits(C1)).toEqual(['GR_node1', 'GR_node2']);
    expect(reconcileOwned(await snapshotView(central.nb.unix), clusterIntent(state)).operations).toEqual([]);
  });

  it('removing the option from both gateways brings back the ECMP default route', async () => {
    state.nodes[0] = node1;
    state.nodes[1] = node2;
    const ops = await apply();
    expect(ops.filter((o) => o.op === 'insert')).toEqual([]);
    expect(await clusterRoutes(central)).not.toContain('src-ip 10.128.4.0/23 via 100.64.0.3');
    expect((await clusterRoutes(central)).filter((r) => r.includes('10.128.4.0/23'))).toEqual([]);
    const out = await trace(C1, 1);
    expect(out).toContain('lr_in_ip_routing_ecmp');
    expect(await exits(C1)).toEqual(['GR_node1', 'GR_node2']);
  });

  it('re-running the reconciler on the resulting NB writes nothing', async () => {
    const result = reconcileOwned(await snapshotView(central.nb.unix), clusterIntent(state));
    expect(result.operations).toEqual([]);
  });
});
