/** The ovn-k8s-ipam plugin logic with an injected pod reader (the real binary runs in real-cni.test.ts). */
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ipamResult, parseCniArgs } from '../../src/node/ipam/cni.js';
import { runIpamPlugin, type PluginDeps } from '../../src/node/ipam/plugin.js';
import {
  formatIpamAllocations,
  IPAM_ALLOCATIONS_ANNOTATION,
  type InterfaceAllocation,
} from '../../src/multinet/index.js';

const alloc: InterfaceAllocation = {
  network: 'default/macvlan',
  pools: ['Subnet/macvlan'],
  ips: ['172.17.0.11/16', 'fd00:17::b/64'],
  gateways: ['172.17.0.1', 'fd00:17::1'],
  routes: [
    { dst: '192.168.0.0/24', gw: '172.17.0.254' },
    { dst: '0.0.0.0/0', gw: '172.17.0.1' },
  ],
  podUid: 'uid-1',
};

const pod = (uid: string, allocations: Record<string, InterfaceAllocation>): V1Pod => ({
  metadata: {
    name: 'p',
    namespace: 'default',
    uid,
    annotations: { [IPAM_ALLOCATIONS_ANNOTATION]: formatIpamAllocations(allocations) },
  },
});

const env = (command: string, extra: Record<string, string> = {}) => ({
  CNI_COMMAND: command,
  CNI_IFNAME: 'net1',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p;K8S_POD_UID=uid-1',
  ...extra,
});

const conf = (cniVersion: string, ipam: Record<string, unknown> = {}) =>
  JSON.stringify({
    cniVersion,
    name: 'macvlan',
    type: 'macvlan',
    ipam: { type: 'ovn-k8s-ipam', kubeconfig: '/kc', ...ipam },
  });

/** A reader that returns each pod of `sequence` in turn (the last one forever), with a fake clock. */
function deps(sequence: (V1Pod | undefined)[]): PluginDeps & { reads: number } {
  let t = 0;
  const d = {
    reads: 0,
    readPod: async () => sequence[Math.min(d.reads++, sequence.length - 1)],
    sleep: async (ms: number) => {
      t += ms;
    },
    now: () => t,
  };
  return d;
}

describe('CNI result formats', () => {
  it('1.x: ips without version, routes, dns', () => {
    expect(ipamResult('1.0.0', alloc)).toEqual({
      cniVersion: '1.0.0',
      ips: [
        { address: '172.17.0.11/16', gateway: '172.17.0.1' },
        { address: 'fd00:17::b/64', gateway: 'fd00:17::1' },
      ],
      routes: alloc.routes,
      dns: {},
    });
  });

  it('0.3.x/0.4.0: ips carry "version"', () => {
    const r = ipamResult('0.3.0', alloc) as { ips: { version: string }[] };
    expect(r.ips.map((i) => i.version)).toEqual(['4', '6']);
  });

  it('0.2.0: ip4/ip6 with their routes', () => {
    expect(ipamResult('0.2.0', alloc)).toEqual({
      cniVersion: '0.2.0',
      ip4: { ip: '172.17.0.11/16', gateway: '172.17.0.1', routes: alloc.routes },
      ip6: { ip: 'fd00:17::b/64', gateway: 'fd00:17::1', routes: [] },
      dns: {},
    });
  });

  it('parses CNI_ARGS and refuses garbage', () => {
    expect(parseCniArgs('A=1; B=x=y')).toEqual({ A: '1', B: 'x=y' });
    expect(() => parseCniArgs('novalue')).toThrow(/KEY=VALUE/);
  });
});

describe('runIpamPlugin', () => {
  it('ADD waits for the allocation of this pod uid and interface', async () => {
    const d = deps([
      undefined,
      pod('old-uid', { net1: { ...alloc, podUid: 'old-uid' } }),
      pod('uid-1', {}),
      pod('uid-1', { net1: alloc }),
    ]);
    const out = await runIpamPlugin(env('ADD'), conf('0.3.1'), d);
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      cniVersion: '0.3.1',
      ips: [{ version: '4', address: '172.17.0.11/16' }, { version: '6' }],
    });
    expect(d.reads).toBe(4);
  });

  it('ADD times out with code 110 and a hint', async () => {
    const out = await runIpamPlugin(
      env('ADD'),
      conf('1.0.0', { timeoutSeconds: 2 }),
      deps([pod('uid-1', { net2: alloc })]),
    );
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toMatchObject({
      cniVersion: '1.0.0',
      code: 110,
      msg: expect.stringContaining('interface net1'),
    });
  });

  it('ADD reports API failures as code 111', async () => {
    const failing: PluginDeps = {
      readPod: async () => {
        throw new Error('connection refused');
      },
      sleep: async () => undefined,
      now: (() => {
        let t = 0;
        return () => (t += 1000);
      })(),
    };
    const out = await runIpamPlugin(env('ADD'), conf('1.0.0', { timeoutSeconds: 2 }), failing);
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 111, details: 'connection refused' });
  });

  it('DEL is a no-op success (the controller releases); CHECK looks the allocation up', async () => {
    const none = deps([undefined]);
    expect(await runIpamPlugin(env('DEL'), conf('1.0.0'), none)).toEqual({ exitCode: 0, stdout: '' });
    expect(none.reads).toBe(0);
    expect(
      (await runIpamPlugin(env('CHECK'), conf('1.0.0'), deps([pod('uid-1', { net1: alloc })]))).exitCode,
    ).toBe(0);
    const missing = await runIpamPlugin(env('CHECK'), conf('1.0.0'), deps([pod('uid-1', {})]));
    expect(JSON.parse(missing.stdout)).toMatchObject({ code: 11 });
  });

  it('VERSION, bad versions, bad environment, bad stdin', async () => {
    const v = await runIpamPlugin({ CNI_COMMAND: 'VERSION' }, '', deps([]));
    expect(JSON.parse(v.stdout)).toMatchObject({
      cniVersion: '1.1.0',
      supportedVersions: expect.arrayContaining(['0.3.0', '1.0.0']),
    });
    expect(JSON.parse((await runIpamPlugin(env('ADD'), conf('9.9.9'), deps([]))).stdout)).toMatchObject({
      code: 1,
    });
    expect(
      JSON.parse((await runIpamPlugin(env('ADD', { CNI_ARGS: '' }), conf('1.0.0'), deps([]))).stdout),
    ).toMatchObject({ code: 4 });
    expect(JSON.parse((await runIpamPlugin(env('ADD'), '{', deps([]))).stdout)).toMatchObject({ code: 6 });
    expect(JSON.parse((await runIpamPlugin(env('BOGUS'), conf('1.0.0'), deps([]))).stdout)).toMatchObject({
      code: 4,
    });
  });

  it("answers Kube-OVN's ipam section (server_socket ignored, kubeconfig from the runtime env)", async () => {
    let seen = '';
    const d: PluginDeps = {
      readPod: async (kc) => {
        seen = kc;
        return pod('uid-1', { net1: alloc });
      },
    };
    const kubeOvn = JSON.stringify({
      cniVersion: '0.3.0',
      type: 'macvlan',
      master: 'eth0',
      ipam: { type: 'kube-ovn', server_socket: '/run/x.sock', provider: 'macvlan.default' },
    });
    const out = await runIpamPlugin({ ...env('ADD'), OVN_K8S_IPAM_KUBECONFIG: '/etc/kc' }, kubeOvn, d);
    expect(out.exitCode).toBe(0);
    expect(seen).toBe('/etc/kc');
  });
});
