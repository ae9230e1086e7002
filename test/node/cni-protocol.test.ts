/**
 * The CNI protocol surface of ovn-k8s-cni-overlay, in process: VERSION, the error objects and
 * codes for bad environments and configurations, CNI_ARGS, the pod annotation and result shapes.
 * (Plugging real pods is in cni-e2e.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { runCni } from '../../src/node/cni/plugin.js';
import { podNetworkOf } from '../../src/node/cni/pod-network.js';
import { parseCniArgs } from '../../src/node/cni/request.js';
import { CniCode, formatResult } from '../../src/node/cni/types.js';

const conf = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'ovn-kubernetes', type: 'ovn-k8s-cni-overlay', ...extra });
const addEnv = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/var/run/netns/none',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p',
};
const errorOf = async (env: NodeJS.ProcessEnv, stdin: string) => {
  const r = await runCni(env, stdin);
  expect(r.exitCode).toBe(1);
  return JSON.parse(r.stdout) as { cniVersion: string; code: number; msg: string; details?: string };
};

describe('CNI protocol', () => {
  it('answers VERSION with every supported version, echoing the requested cniVersion', async () => {
    for (const v of ['0.3.1', '0.4.0', '1.0.0']) {
      const r = await runCni({ CNI_COMMAND: 'VERSION' }, JSON.stringify({ cniVersion: v }));
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        cniVersion: v,
        supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'],
      });
    }
  });

  it('maps bad input to the well-known error codes', async () => {
    expect((await errorOf({}, conf())).code).toBe(CniCode.InvalidEnvironment);
    expect((await errorOf({ CNI_COMMAND: 'FROB' }, conf())).msg).toContain('unknown CNI_COMMAND "FROB"');
    const noNetns = await errorOf({ ...addEnv, CNI_NETNS: '' }, conf());
    expect(noNetns).toMatchObject({ code: CniCode.InvalidEnvironment, cniVersion: '1.0.0' });
    expect(noNetns.msg).toContain('CNI_NETNS');
    expect((await errorOf(addEnv, '{not json')).code).toBe(CniCode.DecodingFailure);
    const old = await errorOf(addEnv, conf({ cniVersion: '0.2.0' }));
    expect(old).toMatchObject({ code: CniCode.IncompatibleVersion, cniVersion: '0.2.0' });
    expect((await errorOf(addEnv, conf({ mtu: 'big' }))).code).toBe(CniCode.InvalidNetworkConfig);
    expect((await errorOf(addEnv, JSON.stringify({ cniVersion: '1.0.0' }))).msg).toContain('"name"');
    const noPod = await errorOf({ ...addEnv, CNI_ARGS: 'IgnoreUnknown=1' }, conf());
    expect(noPod.msg).toContain('K8S_POD_NAMESPACE');
    // CHECK came with 0.4.0
    const check = await errorOf({ ...addEnv, CNI_COMMAND: 'CHECK' }, conf({ cniVersion: '0.3.1' }));
    expect(check.code).toBe(CniCode.IncompatibleVersion);
  });

  it('reports an unreachable OVS database as "try again later"', async () => {
    const e = await errorOf(addEnv, conf({ ovsAddress: 'unix:/nonexistent/db.sock' }));
    expect(e.code).toBe(CniCode.TryAgainLater);
    expect(e.msg).toContain('/nonexistent/db.sock');
    const del = await errorOf(
      { ...addEnv, CNI_COMMAND: 'DEL' },
      conf({ ovsAddress: 'unix:/nonexistent/db.sock' }),
    );
    expect(del.code).toBe(CniCode.TryAgainLater);
  });

  it('parses CNI_ARGS', () => {
    expect(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=a=b')).toEqual({
      IgnoreUnknown: '1',
      K8S_POD_NAMESPACE: 'ns',
      K8S_POD_NAME: 'a=b',
    });
    expect(() => parseCniArgs('novalue')).toThrow(/KEY=VALUE/);
  });

  it('reads the pod-networks annotation and the legacy ovn annotation', () => {
    const pod = (annotations: Record<string, string>): V1Pod => ({
      metadata: { name: 'p', namespace: 'ns', annotations },
    });
    expect(podNetworkOf(pod({}))).toBeUndefined();
    expect(
      podNetworkOf(
        pod({
          'k8s.ovn.org/pod-networks': JSON.stringify({
            default: {
              ip_addresses: ['10.244.1.5/24'],
              mac_address: '0A:58:0A:F4:01:05',
              gateway_ips: ['10.244.1.1'],
              routes: [{ dest: '10.96.0.0/16', nextHop: '10.244.1.1' }],
            },
          }),
        }),
      ),
    ).toEqual({
      ipAddresses: ['10.244.1.5/24'],
      mac: '0a:58:0a:f4:01:05',
      gatewayIps: ['10.244.1.1'],
      routes: [{ dest: '10.96.0.0/16', nextHop: '10.244.1.1' }],
    });
    expect(
      podNetworkOf(
        pod({
          ovn: JSON.stringify({
            ip_address: '10.0.0.3/24',
            mac_address: '0a:00:00:00:00:03',
            gateway_ip: '10.0.0.1',
          }),
        }),
      ),
    ).toMatchObject({ ipAddresses: ['10.0.0.3/24'], gatewayIps: ['10.0.0.1'] });
    expect(() =>
      podNetworkOf(
        pod({
          'k8s.ovn.org/pod-networks': '{"default":{"ip_addresses":["x"],"mac_address":"0a:58:00:00:00:01"}}',
        }),
      ),
    ).toThrow(/malformed/);
  });

  it('shapes results per version: ips carry "version" before 1.0.0', () => {
    const r = {
      interfaces: [{ name: 'h' }, { name: 'eth0', mac: '0a:58:0a:f4:01:05', sandbox: '/x' }],
      ips: [{ address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }],
    };
    expect((formatResult('0.3.1', r).ips as unknown[])[0]).toEqual({ version: '4', ...r.ips[0] });
    expect((formatResult('1.0.0', r).ips as unknown[])[0]).toEqual(r.ips[0]);
    expect(formatResult('1.0.0', r).cniVersion).toBe('1.0.0');
  });
});
