/**
 * Seed 000 (Spiderpool + ovs-cni with fixed IPs) applied unchanged against the simulator with the
 * central IPAM controller running in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotation, eventually, startEnv, type Env } from './env.js';
import {
  attachmentIpamOf,
  IPAM_ALLOCATIONS_ANNOTATION,
  parseCniConfig,
  parseIpamAllocations,
  spiderAssignedKey,
} from '../../src/multinet/index.js';

let env: Env;

beforeAll(async () => {
  env = await startEnv();
  await env.startController();
});

afterAll(async () => {
  await env?.stop();
});

const nadType = () => env.sim.api.registry.get('k8s.cni.cncf.io', 'network-attachment-definitions')!;
const poolStatus = (name: string) => {
  const t = env.sim.api.registry.get('spiderpool.spidernet.io', 'spiderippools')!;
  return env.sim.api.tryGet(t, undefined, name)?.obj.status as Record<string, unknown> | undefined;
};

describe('seed 000: SpiderIPPool + SpiderMultusConfig (ovs) + Deployment', () => {
  it('creates the NAD of the SpiderMultusConfig, wired to our IPAM', async () => {
    await env.applyFixture('000-spiderippool');
    await env.applyFixture('000-spidermultusconfig');
    const nad = await eventually(
      () => env.sim.api.tryGet(nadType(), 'kube-system', 'ovs-conf')?.obj,
      15_000,
      'NAD ovs-conf',
    );
    const config = parseCniConfig((nad.spec as { config: string }).config, 'kube-system/ovs-conf');
    expect(config.main).toMatchObject({ type: 'ovs', bridge: 'br1', ipam: { type: 'ovn-k8s-ipam' } });
    expect(attachmentIpamOf(config, 'kube-system', 'ovs-conf').model).toBe('spiderpool');
    expect(nad.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'SpiderMultusConfig', name: 'ovs-conf' });
    const status = await eventually(() => poolStatus('ippool-test'));
    expect(status).toMatchObject({ totalIPCount: 10, allocatedIPCount: 0 });
  });

  it('gives the two replicas 172.18.30.131 and 172.18.30.132 on eth0', async () => {
    const [deploy] = await env.applyFixture('000-deployment');
    const pods = env.deploymentPods(deploy!, 2);
    const ips: string[] = [];
    for (const p of pods) {
      const pod = await eventually(
        () =>
          annotation(env.pod('default', p.metadata.name!), IPAM_ALLOCATIONS_ANNOTATION)
            ? env.pod('default', p.metadata.name!)
            : undefined,
        15_000,
        `allocation of ${p.metadata.name}`,
      );
      const result = parseIpamAllocations(annotation(pod, IPAM_ALLOCATIONS_ANNOTATION));
      expect(Object.keys(result)).toEqual(['eth0']);
      expect(result.eth0).toMatchObject({ network: 'kube-system/ovs-conf', gateways: ['172.18.0.1'] });
      ips.push(result.eth0!.ips[0]!);
      const assigned = JSON.parse(annotation(pod, spiderAssignedKey('eth0'))!) as Record<string, unknown>;
      expect(assigned).toMatchObject({
        interface: 'eth0',
        ipv4pool: 'ippool-test',
        ipv4: result.eth0!.ips[0],
      });
    }
    expect(ips.sort()).toEqual(['172.18.30.131/16', '172.18.30.132/16']);
    const status = await eventually(() => {
      const s = poolStatus('ippool-test');
      return s?.allocatedIPCount === 2 ? s : undefined;
    });
    expect(status.totalIPCount).toBe(10);
    const allocatedIPs = JSON.parse(String(status.allocatedIPs)) as Record<
      string,
      { pod: string; podUid: string }
    >;
    expect(Object.keys(allocatedIPs).sort()).toEqual(['172.18.30.131', '172.18.30.132']);
    expect(allocatedIPs['172.18.30.131']!.pod).toMatch(/^default\/test-app-/);
  });

  it('keeps the NAD in step with the SpiderMultusConfig and refuses an invalid one', async () => {
    const smcType = env.sim.api.registry.get('spiderpool.spidernet.io', 'spidermultusconfigs')!;
    const smc = env.sim.api.get(smcType, 'kube-system', 'ovs-conf').obj;
    env.sim.api.update(smcType, 'kube-system', 'ovs-conf', {
      ...smc,
      spec: { cniType: 'ovs', ovs: { bridge: 'br2', vlan: 100 } },
    });
    const nad = await eventually(() => {
      const n = env.sim.api.tryGet(nadType(), 'kube-system', 'ovs-conf')?.obj;
      return n && (n.spec as { config: string }).config.includes('br2') ? n : undefined;
    });
    expect(parseCniConfig((nad.spec as { config: string }).config, 'x').main).toMatchObject({
      bridge: 'br2',
      vlan: 100,
    });
    // A hand edit of the generated NAD is undone.
    env.sim.api.update(nadType(), 'kube-system', 'ovs-conf', {
      ...nad,
      spec: { config: '{"type":"ovs","bridge":"hand"}' },
    });
    await eventually(
      () => {
        const n = env.sim.api.tryGet(nadType(), 'kube-system', 'ovs-conf')?.obj;
        return n && (n.spec as { config: string }).config.includes('br2') ? n : undefined;
      },
      15_000,
      'NAD restored',
    );
    // An invalid spec leaves the NAD as it was (one the CRD schema admits: customCNI is not JSON).
    const cur = env.sim.api.get(smcType, 'kube-system', 'ovs-conf').obj;
    env.sim.api.update(smcType, 'kube-system', 'ovs-conf', {
      ...cur,
      spec: { cniType: 'custom', customCNI: 'not json' },
    });
    await env.controller.whenIdle();
    const after = env.sim.api.get(nadType(), 'kube-system', 'ovs-conf').obj;
    expect((after.spec as { config: string }).config).toContain('br2');
  });
});
