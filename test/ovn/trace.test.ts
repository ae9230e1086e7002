/**
 * The real proof: the reconciler's operations for a small cluster (master-init, two nodes, one
 * gateway, two pods per node, a NodePort service and a service without endpoints) are sent to a
 * real NB, ovn-northd compiles them, and ovn-trace follows packets through the logical network.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterIntent, type ClusterState } from '../../src/ovn/intent/index.js';
import { reconcile, reconcileOwned } from '../../src/ovn/reconcile/index.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { tempDir } from '../helpers/tmp.js';
import { smallCluster } from './fixture.js';
import { snapshotView, transact } from './nb-harness.js';

const tmp = tempDir('ovntr-');
let central: OvnCentral;
let state: ClusterState;

const ICMP = 'ip.ttl==64 && icmp4.type==8';
const fromPod = (port: string, mac: string, ip: string, dstMac: string, dstIp: string, l4: string) =>
  `inport=="${port}" && eth.src==${mac} && eth.dst==${dstMac} && ip4.src==${ip} && ip4.dst==${dstIp} && ${l4}`;
const A1 = { port: 'default_a1', mac: '0a:58:0a:80:00:05', ip: '10.128.0.5' };
const NODE1_ROUTER_MAC = '0a:58:0a:80:00:01';
/** what the outside world sends to node1's gateway: from its next hop to rtoe-GR_node1 */
const fromOutside = (dstIp: string, l4: string) =>
  `inport=="breth0_node1" && eth.src==02:00:00:00:00:64 && eth.dst==02:42:ac:12:00:0b && ip4.src==172.18.0.100 && ip4.dst==${dstIp} && ip.ttl==64 && ${l4}`;

beforeAll(async () => {
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  state = smallCluster();
  state.services.push({
    service: {
      namespace: 'web',
      name: 'idle',
      type: 'ClusterIP',
      clusterIPs: ['10.96.0.20'],
      ports: [{ port: 80, targetPort: 8080 }],
    },
    slices: [],
  });
  const owned = clusterIntent(state);
  const result = reconcile(
    await snapshotView(central.nb.unix),
    owned.flatMap((o) => o.rows),
    {
      owners: owned.map((o) => o.owner),
    },
  );
  expect(result.skipped).toEqual([]);
  await transact(central.nb.unix, result.operations);
  await central.syncSb();
  // GR_node1 has dynamic_neigh_routers=true (as ovn-k, to avoid O(nodes^2) static neighbour flows
  // on the join switch) and learns its neighbours by ARP in the data path. ovn-trace has no data
  // path, so record what ovn-controller would learn: the cluster router's join MAC and the
  // physical next hop's MAC.
  const grDatapath = (
    await central.sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', 'external_ids:name=GR_node1')
  ).trim();
  await central.sbctl(
    'create',
    'MAC_Binding',
    'logical_port=rtoj-GR_node1',
    'ip=100.64.0.1',
    'mac="0a:58:64:40:00:01"',
    `datapath=${grDatapath}`,
  );
  await central.sbctl(
    'create',
    'MAC_Binding',
    'logical_port=rtoe-GR_node1',
    'ip=172.18.0.1',
    'mac="02:00:00:00:00:01"',
    `datapath=${grDatapath}`,
  );
}, 60_000);

afterAll(async () => {
  await central?.stop();
  tmp.cleanup();
});

describe('ovn-trace through the reconciled logical network', () => {
  it('pod to pod on one node ends at the destination port', async () => {
    const out = await central.trace(
      '--minimal',
      'node1',
      fromPod(A1.port, A1.mac, A1.ip, '0a:58:0a:80:00:06', '10.128.0.6', ICMP),
    );
    expect(out).toContain('output("default_a2");');
  });

  it('pod to pod across nodes goes through the cluster router to the other node', async () => {
    const out = await central.trace(
      '--minimal',
      'node1',
      fromPod(A1.port, A1.mac, A1.ip, NODE1_ROUTER_MAC, '10.128.2.5', ICMP),
    );
    expect(out).toContain('eth.src = 0a:58:0a:80:02:01;'); // rtos-node2
    expect(out).toContain('output("web_b1");');
  });

  it('pod to a ClusterIP VIP is load-balanced to the service backends', async () => {
    const tcp = 'tcp && tcp.src==33333 && tcp.dst==80';
    const detailed = await central.trace(
      '--ct=new',
      '--detailed',
      'node1',
      fromPod(A1.port, A1.mac, A1.ip, NODE1_ROUTER_MAC, '10.96.0.10', `ip.ttl==64 && ${tcp}`),
    );
    expect(detailed).toContain('ct_lb_mark(backends=10.128.0.6:8080,10.128.2.5:8080);');
    const remote = await central.trace(
      '--ct=new',
      '--ct=new',
      '--minimal',
      '--lb-dst=10.128.2.5:8080',
      'node1',
      fromPod(A1.port, A1.mac, A1.ip, NODE1_ROUTER_MAC, '10.96.0.10', `ip.ttl==64 && ${tcp}`),
    );
    expect(remote).toContain('output("web_b1");');
  });

  it('a service without endpoints rejects instead of dropping silently', async () => {
    const out = await central.trace(
      '--ct=new',
      '--minimal',
      'node1',
      fromPod(
        A1.port,
        A1.mac,
        A1.ip,
        NODE1_ROUTER_MAC,
        '10.96.0.20',
        'ip.ttl==64 && tcp && tcp.src==33333 && tcp.dst==80',
      ),
    );
    expect(out).toMatch(/tcp_reset \{[\s\S]*output\("default_a1"\);/);
    expect(out).not.toContain('ct_lb_mark(backends');
  });

  it('external traffic to a NodePort on the gateway reaches each backend, on either node', async () => {
    const ct = Array<string>(4).fill('--ct=new');
    const tcp = 'tcp && tcp.src==33333 && tcp.dst==30080';
    const toB1 = await central.trace(
      ...ct,
      '--minimal',
      '--lb-dst=10.128.2.5:8080',
      'ext_node1',
      fromOutside('172.18.0.11', tcp),
    );
    expect(toB1).toContain('output("web_b1");');
    const toA2 = await central.trace(
      ...ct,
      '--minimal',
      '--lb-dst=10.128.0.6:8080',
      'ext_node1',
      fromOutside('172.18.0.11', tcp),
    );
    expect(toA2).toContain('output("default_a2");');
  });

  it('external traffic to an external IP that the network routes to the gateway reaches a backend', async () => {
    const ct = Array<string>(4).fill('--ct=new');
    const out = await central.trace(
      ...ct,
      '--minimal',
      '--lb-dst=10.128.2.5:8080',
      'ext_node1',
      fromOutside('192.0.2.10', 'tcp && tcp.src==33333 && tcp.dst==80'),
    );
    expect(out).toContain('output("web_b1");');
  });

  it('pod traffic to the outside leaves through its own node gateway, SNATed to the node IP', async () => {
    const ct = Array<string>(4).fill('--ct=new');
    const out = await central.trace(
      ...ct,
      '--detailed',
      'node1',
      fromPod(A1.port, A1.mac, A1.ip, NODE1_ROUTER_MAC, '8.8.8.8', ICMP),
    );
    // the src-ip route of node1's subnet on the cluster router sends it to GR_node1's join port
    expect(out).toMatch(/lr_in_ip_routing .*: ip4\.src == 10\.128\.0\.0\/23,/);
    expect(out).toContain('outport="jtor-GR_node1"');
    expect(out).toContain('ct_snat(172.18.0.11)');
    expect(out).toContain('output to "breth0_node1"');
  });

  it('a second gateway gets its own route: node2 pods leave by GR_node2, and its NodePort works', async () => {
    state.nodes[1] = {
      ...state.nodes[1]!,
      gateway: {
        chassisId: 'chassis-node2',
        joinIps: ['100.64.0.3/16'],
        ips: ['172.18.0.12/24'],
        mac: '02:42:ac:12:00:0c',
        nextHops: ['172.18.0.1'],
      },
    };
    const result = reconcileOwned(await snapshotView(central.nb.unix), clusterIntent(state));
    // only node2's gateway rows are new; of the existing rows only the NodePort VIPs change
    expect(
      result.operations
        .filter((o) => o.op === 'update')
        .map((o) => [o.table, Object.keys(o.op === 'update' ? o.row : {})]),
    ).toEqual([['Load_Balancer', ['vips']]]);
    await transact(central.nb.unix, result.operations);
    await central.syncSb();
    const dp = (
      await central.sbctl(
        '--bare',
        '--columns=_uuid',
        'find',
        'Datapath_Binding',
        'external_ids:name=GR_node2',
      )
    ).trim();
    await central.sbctl(
      'create',
      'MAC_Binding',
      'logical_port=rtoj-GR_node2',
      'ip=100.64.0.1',
      'mac="0a:58:64:40:00:01"',
      `datapath=${dp}`,
    );
    await central.sbctl(
      'create',
      'MAC_Binding',
      'logical_port=rtoe-GR_node2',
      'ip=172.18.0.1',
      'mac="02:00:00:00:00:01"',
      `datapath=${dp}`,
    );

    const ct = Array<string>(4).fill('--ct=new');
    const B1 = { port: 'web_b1', mac: '0a:58:0a:80:02:05', ip: '10.128.2.5' };
    const out = await central.trace(
      ...ct,
      '--detailed',
      'node2',
      fromPod(B1.port, B1.mac, B1.ip, '0a:58:0a:80:02:01', '8.8.8.8', ICMP),
    );
    expect(out).toContain('outport="jtor-GR_node2"');
    expect(out).toContain('ct_snat(172.18.0.12)');
    expect(out).toContain('output to "breth0_node2"');
    // node1's pods still leave by node1
    const a1 = await central.trace(
      ...ct,
      '--detailed',
      'node1',
      fromPod(A1.port, A1.mac, A1.ip, NODE1_ROUTER_MAC, '8.8.8.8', ICMP),
    );
    expect(a1).toContain('ct_snat(172.18.0.11)');

    const toNodePort = `inport=="breth0_node2" && eth.src==02:00:00:00:00:64 && eth.dst==02:42:ac:12:00:0c && ip4.src==172.18.0.100 && ip4.dst==172.18.0.12 && ip.ttl==64 && tcp && tcp.src==33333 && tcp.dst==30080`;
    const np = await central.trace(...ct, '--minimal', '--lb-dst=10.128.0.6:8080', 'ext_node2', toNodePort);
    expect(np).toContain('output("default_a2");');
  });

  it('re-running the reconciler on a dump of the resulting NB writes nothing', async () => {
    const result = reconcileOwned(await snapshotView(central.nb.unix), clusterIntent(state));
    expect(result.operations).toEqual([]);
    expect(result.skipped).toEqual([]);
  });
});
