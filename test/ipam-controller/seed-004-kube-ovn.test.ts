/**
 * Seed 004 (Kube-OVN multi-NIC IPAM) applied unchanged against the simulator with the central
 * IPAM controller running in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotation, eventually, fixture, hasKubectl, startEnv, type Env } from './env.js';
import { IPAM_ALLOCATIONS_ANNOTATION, parseIpamAllocations } from '../../src/multinet/index.js';
import type { KubeObject } from '../../src/k8s/sim/index.js';

let env: Env;

const allocated = (ns: string, name: string, provider: string) =>
  eventually(
    () =>
      annotation(env.pod(ns, name), `${provider}.kubernetes.io/allocated`) === 'true'
        ? env.pod(ns, name)
        : undefined,
    15_000,
    `${ns}/${name} allocation for ${provider}`,
  );

const subnetStatus = (name: string): Record<string, unknown> | undefined => {
  const t = env.sim.api.registry.get('kubeovn.io', 'subnets')!;
  return env.sim.api.tryGet(t, undefined, name)?.obj.status as Record<string, unknown> | undefined;
};

beforeAll(async () => {
  env = await startEnv();
  await env.startController();
});

afterAll(async () => {
  await env?.stop();
});

describe('seed 004: macvlan with Kube-OVN IPAM (provider macvlan.default)', () => {
  it('serves the NAD, Subnet with its excluded range, random and static pods', async () => {
    await env.applyFixture('004-nad-macvlan');
    await env.applyFixture('004-subnet-macvlan');
    await env.applyFixture('004-pod-samplepod');
    await env.applyFixture('004-pod-static-ip');

    const sample = await allocated('default', 'samplepod', 'macvlan.default');
    const ip = annotation(sample, 'macvlan.default.kubernetes.io/ip_address')!;
    // 172.17.0.0..172.17.0.10 is excluded and .1 is the gateway: the first dynamic address is .11.
    expect(ip).toBe('172.17.0.11');
    expect(annotation(sample, 'macvlan.default.kubernetes.io/logical_switch')).toBe('macvlan');
    expect(annotation(sample, 'macvlan.default.kubernetes.io/cidr')).toBe('172.17.0.0/16');
    expect(annotation(sample, 'macvlan.default.kubernetes.io/gateway')).toBe('172.17.0.1');
    const result = parseIpamAllocations(annotation(sample, IPAM_ALLOCATIONS_ANNOTATION));
    expect(result.net1).toMatchObject({
      network: 'default/macvlan',
      ips: ['172.17.0.11/16'],
      gateways: ['172.17.0.1'],
    });

    const fixed = await allocated('default', 'static-ip', 'macvlan.default');
    expect(annotation(fixed, 'macvlan.default.kubernetes.io/ip_address')).toBe('172.17.0.100');
    expect(annotation(fixed, 'macvlan.default.kubernetes.io/mac_address')).toBe('00:00:00:53:6b:bb');
    // The primary-network annotations are not ours to touch.
    expect(annotation(fixed, 'ovn.kubernetes.io/ip_address')).toBe('10.16.0.15');
    const fixedResult = parseIpamAllocations(annotation(fixed, IPAM_ALLOCATIONS_ANNOTATION));
    expect(fixedResult.net1?.mac).toBe('00:00:00:53:6b:bb');

    const status = await eventually(() => {
      const s = subnetStatus('macvlan');
      return s && s.v4usingIPs === 2 ? s : undefined;
    });
    // 65536 - network - broadcast - gateway - 10 excluded (.0 and .1 already counted) = 65523 - 2 used.
    expect(status.v4availableIPs).toBe(65536 - 2 - 1 - 9 - 2);
    expect(status.v4usingIPrange).toContain('172.17.0.11');
  });

  it('gives the ip_pool Deployment pods addresses from the list, no two alike', async () => {
    const [deploy] = await env.applyFixture('004-deploy-static-workload');
    const pods = env.deploymentPods(deploy!, 2);
    const ips = [];
    for (const p of pods) {
      const got = await allocated('default', p.metadata.name!, 'macvlan.default');
      ips.push(annotation(got, 'macvlan.default.kubernetes.io/ip_address'));
    }
    expect(new Set(ips).size).toBe(2);
    for (const ip of ips) expect(['172.17.0.200', '172.17.0.201', '172.17.0.202']).toContain(ip);
  });

  // The seed's YAML here is only valid for kubectl's lenient parser.
  it.skipIf(!hasKubectl)(
    'adds the default route of a JSON selection element with default-route',
    async () => {
      await env.applyFixture('004-pod-samplepod-route');
      const pod = await allocated('default', 'samplepod-route', 'macvlan.default');
      const result = parseIpamAllocations(annotation(pod, IPAM_ALLOCATIONS_ANNOTATION));
      expect(result.net1?.routes).toEqual([{ dst: '0.0.0.0/0', gw: '172.17.0.1' }]);
    },
  );

  it('serves a pod whose default network is the macvlan NAD on eth0', async () => {
    await env.applyFixture('004-pod-samplepod-macvlan');
    const pod = await allocated('default', 'samplepod-macvlan', 'macvlan.default');
    const result = parseIpamAllocations(annotation(pod, IPAM_ALLOCATIONS_ANNOTATION));
    expect(Object.keys(result)).toEqual(['eth0']);
  });
});

describe('seed 004: Kube-OVN-type attachment (attachnet.default.ovn)', () => {
  it('allocates from the attachnet Subnet with custom routes', async () => {
    await env.applyFixture('004-nad-attachnet');
    await env.applyFixture('004-subnet-attachnet');
    await env.applyFixture('004-pod-custom-routes-attach');
    const pod = await allocated('default', 'custom-routes-attach', 'attachnet.default.ovn');
    expect(annotation(pod, 'attachnet.default.ovn.kubernetes.io/ip_address')).toBe('172.17.0.11');
    expect(annotation(pod, 'attachnet.default.ovn.kubernetes.io/logical_switch')).toBe('attachnet');
    // An OVN attachment gets a MAC (its logical switch port needs one).
    expect(annotation(pod, 'attachnet.default.ovn.kubernetes.io/mac_address')).toMatch(
      /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/,
    );
    const result = parseIpamAllocations(annotation(pod, IPAM_ALLOCATIONS_ANNOTATION));
    expect(result.net1?.routes).toEqual([
      { dst: '192.168.0.101/24', gw: '172.17.0.254' },
      { dst: '0.0.0.0/0', gw: '172.17.0.254' },
    ]);
  });

  it('applies the routes of a Deployment template to each pod', async () => {
    const [deploy] = await env.applyFixture('004-deploy-custom-routes-attach');
    const [p] = env.deploymentPods(deploy as KubeObject, 1);
    const pod = await allocated('default', p!.metadata.name!, 'attachnet.default.ovn');
    expect(annotation(pod, 'attachnet.default.ovn.kubernetes.io/ip_address')).toBe('172.17.0.12');
  });

  it('uses the Subnet named by logical_switch over the provider match (provider ovn Subnet)', async () => {
    // The seed's second "attachnet" Subnet replaces the first: provider ovn, same range.
    await env.applyFixture('004-subnet-attachnet-provider-ovn');
    const samplepod = fixture('004-pod-samplepod-attachnet-logical-switch');
    samplepod[0]!.metadata.name = 'samplepod-ls'; // the seed reuses "samplepod"; both live here
    env.apply(samplepod);
    const pod = await allocated('default', 'samplepod-ls', 'attachnet.default.ovn');
    expect(annotation(pod, 'attachnet.default.ovn.kubernetes.io/logical_switch')).toBe('attachnet');
    const ip = annotation(pod, 'attachnet.default.ovn.kubernetes.io/ip_address')!;
    // Same Subnet as the earlier attachnet pods: no address handed out twice.
    expect(['172.17.0.11', '172.17.0.12']).not.toContain(ip);
  });
});
