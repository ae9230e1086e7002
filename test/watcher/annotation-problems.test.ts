/** The words a user gets for an annotation the watcher cannot use (BadAnnotation Events). */
import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { gatewayConfigProblem } from '../../src/watcher/annotation-problems.js';

const node = (cfg: unknown): V1Node => ({
  metadata: {
    name: 'n1',
    annotations: { 'k8s.ovn.org/l3-gateway-config': typeof cfg === 'string' ? cfg : JSON.stringify(cfg) },
  },
});
const good = {
  mode: 'shared',
  'ip-addresses': ['172.18.0.11/24'],
  'mac-address': '02:42:ac:12:00:0b',
  'next-hops': ['172.18.0.1'],
};

describe('gatewayConfigProblem', () => {
  it('has nothing to say about a usable config, with or without ramp-out subnets', () => {
    expect(gatewayConfigProblem(node({ default: good }))).toBeUndefined();
    expect(
      gatewayConfigProblem(
        node({ default: { ...good, 'rampout-ip-subnets': ['10.128.4.0/23', 'fd00::/64'] } }),
      ),
    ).toBeUndefined();
    expect(gatewayConfigProblem({ metadata: { name: 'n2' } })).toBeUndefined();
  });

  it('names what is wrong', () => {
    expect(gatewayConfigProblem(node('{'))).toMatch(/is not JSON/);
    expect(gatewayConfigProblem(node({ default: { ...good, mode: 'x' } }))).toMatch(/mode must be/);
    expect(gatewayConfigProblem(node({ default: { ...good, 'ip-addresses': [] } }))).toMatch(
      /ip-addresses is missing/,
    );
    expect(gatewayConfigProblem(node({ default: { ...good, 'mac-address': 'zz' } }))).toMatch(
      /not a MAC address/,
    );
    expect(gatewayConfigProblem(node({ default: { ...good, 'next-hops': ['x'] } }))).toMatch(/next hop "x"/);
  });

  it('reports ramp-out subnets the watcher has to ignore', () => {
    expect(gatewayConfigProblem(node({ default: { ...good, 'rampout-ip-subnets': '10.0.0.0/8' } }))).toMatch(
      /rampout-ip-subnets must be a list/,
    );
    expect(
      gatewayConfigProblem(
        node({ default: { ...good, 'rampout-ip-subnets': ['10.128.4.0/23', '10.1.2.3'] } }),
      ),
    ).toMatch(/entry "10.1.2.3" is not a subnet .* ignored/);
  });
});
