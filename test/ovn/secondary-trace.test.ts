/**
 * Secondary OVN networks proven on a real NB/SB with ovn-northd and ovn-trace, in the shape of
 * seed 003: the default network with two nodes and pods, and the same pods attached to a second
 * OVN layer3 network 10.245.0.0/16 (a /24 per node), plus a layer2 and a localnet network.
 * Host subnets and pod addresses come from src/ipam, as the watcher would allocate them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeIpAllocator } from '../../src/ipam/host-subnet.js';
import { HostSubnetAllocator } from '../../src/ipam/subnet-allocator.js';
import { clusterIntent, macFromIp, type ClusterState, type OwnedRows } from '../../src/ovn/intent/index.js';
import {
  attachmentOfOwner,
  attachmentPort,
  isSecondaryOwner,
  layer2Switch,
  localnetNetworkPort,
  localnetSwitch,
  networkNodeSwitch,
  networkOfOwner,
  podAttachmentAnnotation,
  secondaryNetworkIntent,
  type PodAttachmentInfo,
  type SecondaryNetworkInfo,
  type SecondaryNodeInfo,
} from '../../src/ovn/intent/secondary.js';
import { NETWORK_KEY, type OwnerRef } from '../../src/ovn/names.js';
import { reconcileOwned, sweep } from '../../src/ovn/reconcile/index.js';
import { startOvnCentral, type OvnCentral } from '../../src/runtime/ovn-central.js';
import { tempDir } from '../helpers/tmp.js';
import { smallCluster } from './fixture.js';
import { dumpRows, snapshotView, transact } from './nb-harness.js';

const tmp = tempDir('ovnsec-');
let central: OvnCentral;
let state: ClusterState;

// seed 003's second OVN overlay ("ovn-again-conf"), attached to every pod of the default fixture
const L3: SecondaryNetworkInfo = { name: 'ovn-again', topology: 'layer3', subnets: ['10.245.0.0/16/24'] };
const L3_NAD = 'default/ovn-again-conf';
const L2: SecondaryNetworkInfo = {
  name: 'l2-net',
  topology: 'layer2',
  subnets: ['10.100.200.0/24'],
  excludeSubnets: ['10.100.200.0/29'],
};
const L2_NAD = 'web/l2-conf';
/** a layer2 network without subnets: L2 only, port security on the MAC alone */
const L2_ONLY: SecondaryNetworkInfo = { name: 'l2-only', topology: 'layer2', subnets: [] };
const L2_ONLY_NAD = 'default/l2-only';
const l2OnlyAtts: PodAttachmentInfo[] = [
  { namespace: 'default', name: 'a2', node: 'node1', nad: L2_ONLY_NAD, ips: [], mac: '02:00:00:00:0a:02' },
  { namespace: 'web', name: 'b2', node: 'node2', nad: L2_ONLY_NAD, ips: [], mac: '02:00:00:00:0b:02' },
];
const LOCALNET: SecondaryNetworkInfo = {
  name: 'phys-net',
  topology: 'localnet',
  subnets: ['192.168.1.0/24'],
  vlanID: 100,
  physicalNetworkName: 'physnet-blue',
};
const LOCALNET_NAD = 'default/localnet-conf';

let l3Nodes: SecondaryNodeInfo[];
const l3Atts = new Map<string, PodAttachmentInfo>();
const l2Atts = new Map<string, PodAttachmentInfo>();
let localnetAtt: PodAttachmentInfo;

const ICMP = 'ip.ttl==64 && icmp4.type==8';
const fromPort = (port: string, mac: string, ip: string, dstMac: string, dstIp: string) =>
  `inport=="${port}" && eth.src==${mac} && eth.dst==${dstMac} && ip4.src==${ip} && ip4.dst==${dstIp} && ${ICMP}`;
const ipOnly = (cidr: string) => cidr.split('/')[0]!;
const portOf = (a: PodAttachmentInfo) => attachmentPort(a.nad, a.namespace, a.name);
const macOf = (a: PodAttachmentInfo) => a.mac ?? macFromIp(a.ips[0]!);

function secondaryIntent(): OwnedRows[] {
  return [
    ...secondaryNetworkIntent(L3, l3Nodes, [...l3Atts.values()]),
    ...secondaryNetworkIntent(L2, [], [...l2Atts.values()]),
    ...secondaryNetworkIntent(L2_ONLY, [], l2OnlyAtts),
    ...secondaryNetworkIntent(LOCALNET, [], [localnetAtt]),
  ];
}

async function apply(owned: OwnedRows[], alsoRemove: OwnerRef[] = []): Promise<void> {
  const result = reconcileOwned(await snapshotView(central.nb.unix), owned, alsoRemove);
  expect(result.skipped).toEqual([]);
  await transact(central.nb.unix, result.operations);
}

beforeAll(async () => {
  central = await startOvnCentral({ dir: `${tmp.dir}/c` });
  state = smallCluster();

  // the watcher's allocations: a /24 per node of 10.245.0.0/16, pod addresses from it
  const hostSubnets = new HostSubnetAllocator(L3.subnets as string[]);
  l3Nodes = state.nodes.map((n) => ({ name: n.name, subnets: hostSubnets.allocate(`${L3.name}/${n.name}`) }));
  for (const node of l3Nodes) {
    const ips = createNodeIpAllocator(node.name, node.subnets);
    for (const p of state.pods.filter((x) => x.node === node.name)) {
      const ip = ips.allocate(`${p.namespace}/${p.name}`)[0]!;
      l3Atts.set(p.name, {
        namespace: p.namespace,
        name: p.name,
        node: p.node,
        ...(p.uid ? { uid: p.uid } : {}),
        nad: L3_NAD,
        ips: [`${ip}/24`],
      });
    }
  }
  l2Atts.set('a1', {
    namespace: 'default',
    name: 'a1',
    node: 'node1',
    nad: L2_NAD,
    ips: ['10.100.200.10/24'],
  });
  l2Atts.set('b1', { namespace: 'web', name: 'b1', node: 'node2', nad: L2_NAD, ips: ['10.100.200.11/24'] });
  localnetAtt = {
    namespace: 'default',
    name: 'a1',
    node: 'node1',
    nad: LOCALNET_NAD,
    ips: ['192.168.1.201/24'],
  };

  await apply([...clusterIntent(state), ...secondaryIntent()]);
  await central.syncSb();
}, 60_000);

afterAll(async () => {
  await central?.stop();
  tmp.cleanup();
});

describe('secondary OVN networks through ovn-trace', () => {
  it('allocates the seed shape: one /24 of 10.245.0.0/16 per node, pods inside their node subnet', () => {
    expect(l3Nodes.map((n) => n.subnets)).toEqual([['10.245.0.0/24'], ['10.245.1.0/24']]);
    const b1 = l3Atts.get('b1')!;
    expect(podAttachmentAnnotation(L3, b1, l3Nodes[1]!.subnets)).toEqual({
      key: 'default/ovn-again-conf',
      entry: {
        ip_addresses: b1.ips,
        mac_address: macFromIp(b1.ips[0]!),
        routes: [{ dest: '10.245.0.0/16', nextHop: '10.245.1.1' }],
        ip_address: b1.ips[0],
        role: 'secondary',
      },
    });
  });

  it('layer3: a pod reaches another pod on the other node through the network router', async () => {
    const a1 = l3Atts.get('a1')!;
    const b1 = l3Atts.get('b1')!;
    const out = await central.trace(
      '--minimal',
      networkNodeSwitch(L3.name, 'node1'),
      fromPort(portOf(a1), macOf(a1), ipOnly(a1.ips[0]!), macFromIp('10.245.0.1'), ipOnly(b1.ips[0]!)),
    );
    expect(out).toContain(`eth.src = ${macFromIp('10.245.1.1')};`); // rtos-ovn.again_node2
    expect(out).toContain(`output("${portOf(b1)}");`);
    expect(portOf(b1)).toBe('default.ovn.again.conf_web_b1');
  });

  it('layer3: pods on one node reach each other on the node switch', async () => {
    const a1 = l3Atts.get('a1')!;
    const a2 = l3Atts.get('a2')!;
    const out = await central.trace(
      '--minimal',
      networkNodeSwitch(L3.name, 'node1'),
      fromPort(portOf(a1), macOf(a1), ipOnly(a1.ips[0]!), macOf(a2), ipOnly(a2.ips[0]!)),
    );
    expect(out).toContain(`output("${portOf(a2)}");`);
  });

  it('layer2: pods on different nodes reach each other on the one switch', async () => {
    const a1 = l2Atts.get('a1')!;
    const b1 = l2Atts.get('b1')!;
    const out = await central.trace(
      '--minimal',
      layer2Switch(L2.name),
      fromPort(portOf(a1), macOf(a1), '10.100.200.10', macOf(b1), '10.100.200.11'),
    );
    expect(out).toContain(`output("${portOf(b1)}");`);
  });

  it('layer2: port security drops a spoofed source IP', async () => {
    const a1 = l2Atts.get('a1')!;
    const b1 = l2Atts.get('b1')!;
    const out = await central.trace(
      '--minimal',
      layer2Switch(L2.name),
      fromPort(portOf(a1), macOf(a1), '10.100.200.99', macOf(b1), '10.100.200.11'),
    );
    expect(out).not.toContain('output(');
  });

  it('layer2 without subnets: any addresses the pods choose, as long as the MAC is theirs', async () => {
    const [a2, b2] = [l2OnlyAtts[0]!, l2OnlyAtts[1]!];
    const ok = await central.trace(
      '--minimal',
      layer2Switch(L2_ONLY.name),
      fromPort(portOf(a2), a2.mac!, '172.31.7.1', b2.mac!, '172.31.7.2'),
    );
    expect(ok).toContain(`output("${portOf(b2)}");`);
    const spoofed = await central.trace(
      '--minimal',
      layer2Switch(L2_ONLY.name),
      fromPort(portOf(a2), '02:00:00:00:0a:99', '172.31.7.1', b2.mac!, '172.31.7.2'),
    );
    expect(spoofed).not.toContain('output(');
  });

  it('localnet: traffic to an off-network destination leaves through the localnet port, on its VLAN', async () => {
    const out = await central.trace(
      '--minimal',
      localnetSwitch(LOCALNET.name),
      fromPort(
        portOf(localnetAtt),
        macOf(localnetAtt),
        '192.168.1.201',
        '02:00:00:00:00:99',
        '192.168.1.250',
      ),
    );
    expect(out).toContain(`output("${localnetNetworkPort(LOCALNET.name)}");`);
    const binding = await central.sbctl(
      '--bare',
      '--columns=type,tag,options',
      'find',
      'Port_Binding',
      `logical_port=${localnetNetworkPort(LOCALNET.name)}`,
    );
    expect(binding).toContain('localnet');
    expect(binding).toContain('100');
    expect(binding).toContain('network_name=physnet-blue');
  });

  it('isolation: the secondary network does not deliver to a default-network pod IP', async () => {
    const a1 = l3Atts.get('a1')!;
    const out = await central.trace(
      '--detailed',
      networkNodeSwitch(L3.name, 'node1'),
      fromPort(portOf(a1), macOf(a1), ipOnly(a1.ips[0]!), macFromIp('10.245.0.1'), '10.128.2.5'),
    );
    // it gets as far as the network's router, which has no route out of 10.245.0.0/16
    expect(out).toContain('ingress(dp="ovn.again_ovn_cluster_router"');
    expect(out).toMatch(/lr_in_ip_routing \(.*\): 1, priority 0, .*\n\s+drop;/);
    expect(out).not.toContain('egress(dp="ovn.again_ovn_cluster_router"');
    expect(out).not.toContain('web_b1');
    // nor does layer2, even with the default pod's MAC as destination
    const l2 = l2Atts.get('a1')!;
    const viaL2 = await central.trace(
      '--minimal',
      layer2Switch(L2.name),
      fromPort(portOf(l2), macOf(l2), '10.100.200.10', '0a:58:0a:80:02:05', '10.128.2.5'),
    );
    expect(viaL2).not.toContain('"web_b1"');
    // and the default network does not deliver to a secondary address
    const b1 = l3Atts.get('b1')!;
    const fromDefault = await central.trace(
      '--minimal',
      'node1',
      fromPort('default_a1', '0a:58:0a:80:00:05', '10.128.0.5', '0a:58:0a:80:00:01', ipOnly(b1.ips[0]!)),
    );
    expect(fromDefault).not.toContain(`"${portOf(b1)}"`);
  });

  it('re-running the reconciler for every network on a dump of NB writes nothing', async () => {
    const result = reconcileOwned(await snapshotView(central.nb.unix), [
      ...clusterIntent(state),
      ...secondaryIntent(),
    ]);
    expect(result.skipped).toEqual([]);
    expect(result.operations).toEqual([]);
  });

  it('a default-network sweep leaves every network alone: secondary owners have types of their own', async () => {
    const state0 = clusterIntent(state).map((o) => `${o.owner.type}:${o.owner.id}`);
    const live = new Set(state0);
    const result = sweep(await snapshotView(central.nb.unix), (o) => live.has(`${o.type}:${o.id}`), [
      'Cluster',
      'Node',
      'Pod',
      'Service',
    ]);
    expect(result.owners.some(isSecondaryOwner)).toBe(false);
    expect(result.owners).toEqual([]);
    expect(result.operations).toEqual([]);
  });

  it('sweeping the layer3 network removes only its rows: the default network stays converged', async () => {
    const gone = (o: OwnerRef) => networkOfOwner(o) === L3.name || attachmentOfOwner(o)?.nad === L3_NAD;
    const result = sweep(await snapshotView(central.nb.unix), (o) => !gone(o), ['Network', 'PodNetwork']);
    expect(result.owners.length).toBe(1 + l3Atts.size);
    await transact(central.nb.unix, result.operations);
    await central.syncSb();

    const rows = await dumpRows(central.nb.unix);
    const ofL3 = Object.values(rows)
      .flat()
      .filter((r) => {
        const ids = r.external_ids as Record<string, string> | undefined;
        return ids?.[NETWORK_KEY] === L3.name;
      });
    expect(ofL3).toEqual([]);

    const again = reconcileOwned(await snapshotView(central.nb.unix), [
      ...clusterIntent(state),
      ...secondaryNetworkIntent(L2, [], [...l2Atts.values()]),
      ...secondaryNetworkIntent(L2_ONLY, [], l2OnlyAtts),
      ...secondaryNetworkIntent(LOCALNET, [], [localnetAtt]),
    ]);
    expect(again.operations).toEqual([]);

    // the default network still forwards across nodes
    const out = await central.trace(
      '--minimal',
      'node1',
      fromPort('default_a1', '0a:58:0a:80:00:05', '10.128.0.5', '0a:58:0a:80:00:01', '10.128.2.5'),
    );
    expect(out).toContain('output("web_b1");');
  });
});
