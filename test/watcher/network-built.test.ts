import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseOvnNetworkConfig } from '../../src/multinet/index.js';
import {
  podAttachmentRows,
  secondaryNetworkRows,
  type SecondaryNetworkInfo,
  type SecondaryNodeInfo,
} from '../../src/ovn/intent/secondary.js';
import { SnapshotNbView } from '../../src/ovn/reconcile/view.js';
import type { Row } from '../../src/ovsdb/value.js';
import { nbAgreesWith } from '../../src/watcher/network-built.js';
import { networkInfoOf } from '../../src/watcher/network-controller.js';

/** The network's info as the controller builds it from a NAD config. */
const info = (o: Record<string, unknown>): SecondaryNetworkInfo => {
  const config = parseOvnNetworkConfig(
    JSON.stringify({ cniVersion: '0.3.1', type: 'ovn-k8s-cni-overlay', netAttachDefName: 'ns/n', ...o }),
    'ns',
    'n',
  );
  return networkInfoOf(config);
};

/** An NB snapshot holding what the watcher writes for `net` (plus a pod port and a default switch). */
function nbOf(net: SecondaryNetworkInfo, nodes: SecondaryNodeInfo[] = []): SnapshotNbView {
  const tables: Record<string, Row[]> = {};
  const add = (table: string, columns: Record<string, unknown>) =>
    (tables[table] ??= []).push({ _uuid: randomUUID(), ...columns } as Row);
  for (const r of secondaryNetworkRows(net, nodes)) add(r.table, r.columns);
  const att = { namespace: 'default', name: 'p', node: nodes[0]?.name ?? 'n1', nad: 'ns/n', ips: [] };
  for (const r of podAttachmentRows(net, { ...att, mac: '02:00:00:00:00:01' })) add(r.table, r.columns);
  add('Logical_Switch', { name: 'n1', other_config: { subnet: '10.128.0.0/23' }, external_ids: {} });
  return new SnapshotNbView(tables);
}

describe('nbAgreesWith: is the network in NB built with this config?', () => {
  const l3 = info({ name: 'blue', topology: 'layer3', subnets: '10.245.0.0/16/24,fd00:245::/48/64' });
  const nodes = [
    { name: 'n1', subnets: ['10.245.1.0/24', 'fd00:245:0:1::/64'] },
    { name: 'n2', subnets: ['10.245.2.0/24', 'fd00:245:0:2::/64'] },
  ];

  it('layer3: agrees with its own config (node subnets read back from the router ports), not with another', () => {
    const view = nbOf(l3, nodes);
    expect(nbAgreesWith(view, l3)).toBe(true);
    expect(nbAgreesWith(view, info({ name: 'blue', subnets: '10.246.0.0/16/24,fd00:245::/48/64' }))).toBe(
      false,
    );
    expect(nbAgreesWith(view, info({ name: 'blue', subnets: '10.245.0.0/16/24' }))).toBe(false);
    expect(nbAgreesWith(view, info({ name: 'blue', subnets: '10.245.0.0/16/25,fd00:245::/48/64' }))).toBe(
      false,
    );
    expect(
      nbAgreesWith(
        view,
        info({ name: 'blue', subnets: '10.245.0.0/16/24,fd00:245::/48/64', role: 'primary' }),
      ),
    ).toBe(false);
    expect(nbAgreesWith(view, info({ name: 'blue', topology: 'layer2', subnets: '10.245.0.0/16' }))).toBe(
      false,
    );
    // a router without node switches yet shows only the topology and role
    expect(nbAgreesWith(nbOf(l3, []), info({ name: 'blue', subnets: '10.99.0.0/16/24' }))).toBe(true);
  });

  it('layer3: mtu is not in NB, so a config differing only there agrees too (documented limit)', () => {
    expect(
      nbAgreesWith(
        nbOf(l3, nodes),
        info({ name: 'blue', topology: 'layer3', subnets: '10.245.0.0/16/24,fd00:245::/48/64', mtu: 1300 }),
      ),
    ).toBe(true);
  });

  it('nothing built: no agreement with any config', () => {
    expect(nbAgreesWith(nbOf(l3, nodes), info({ name: 'green', subnets: '10.245.0.0/16/24' }))).toBe(false);
    expect(nbAgreesWith(new SnapshotNbView({}), l3)).toBe(false);
  });

  it('layer2: the subnet and excludeSubnets decide', () => {
    const l2 = info({
      name: 'l2',
      topology: 'layer2',
      subnets: '10.100.200.0/24',
      excludeSubnets: '10.100.200.0/29',
    });
    const view = nbOf(l2);
    expect(nbAgreesWith(view, l2)).toBe(true);
    expect(nbAgreesWith(view, info({ name: 'l2', topology: 'layer2', subnets: '10.100.200.0/24' }))).toBe(
      false,
    );
    expect(
      nbAgreesWith(
        view,
        info({ name: 'l2', topology: 'layer2', subnets: '10.100.0.0/16', excludeSubnets: '10.100.200.0/29' }),
      ),
    ).toBe(false);
    expect(nbAgreesWith(view, info({ name: 'l2', topology: 'localnet', subnets: '10.100.200.0/24' }))).toBe(
      false,
    );
  });

  it('localnet: the VLAN and the physical network decide', () => {
    const ln = info({ name: 'tenant', topology: 'localnet', vlanID: 200, physicalNetworkName: 'physnet1' });
    const view = nbOf(ln);
    expect(nbAgreesWith(view, ln)).toBe(true);
    expect(
      nbAgreesWith(
        view,
        info({ name: 'tenant', topology: 'localnet', vlanID: 300, physicalNetworkName: 'physnet1' }),
      ),
    ).toBe(false);
    expect(
      nbAgreesWith(view, info({ name: 'tenant', topology: 'localnet', physicalNetworkName: 'physnet1' })),
    ).toBe(false);
    expect(nbAgreesWith(view, info({ name: 'tenant', topology: 'localnet', vlanID: 200 }))).toBe(false);
    expect(
      nbAgreesWith(
        nbOf(info({ name: 'tenant', topology: 'localnet' })),
        info({ name: 'tenant', topology: 'localnet' }),
      ),
    ).toBe(true);
  });
});
