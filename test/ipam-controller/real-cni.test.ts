/**
 * Real CNI plugins, not ours: Debian's containernetworking-plugins `macvlan`, invoked as a
 * container runtime (or Multus) would, with our IPAM plugin in CNI_PATH, gives two pods in network
 * namespaces the addresses the central IPAM allocated (seed 004: a random one and the fixed
 * 172.17.0.100), and they ping each other.
 *
 * Topology, all in namespaces this test creates: a "node" netns with a veth pair whose end `eth0`
 * is the macvlan master (so the seed's `"master": "eth0"` applies unchanged), and two pod netns.
 * The plugins run inside the node netns; the IPAM launcher enters this process's netns to reach
 * the in-process API simulator on 127.0.0.1, as the real plugin reaches the API server from the
 * node.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { annotation, eventually, startEnv, type Env } from './env.js';
import { IPAM_ALLOCATIONS_ANNOTATION, parseIpamAllocations } from '../../src/multinet/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CNI_DIR = '/usr/lib/cni';
const PLUGIN_JS = join(ROOT, 'dist', 'cli', 'ovn-k8s-ipam.js');

const canRun = (() => {
  if (process.getuid?.() !== 0 || !existsSync(join(CNI_DIR, 'macvlan'))) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    execFileSync('nsenter', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const tag = `${process.pid % 100000}`;
const NODE_NS = `h12n${tag}`;
const POD_NS = { a: `h12a${tag}`, b: `h12b${tag}`, c: `h12c${tag}`, d: `h12d${tag}` };

let env: Env;
let tmp: ReturnType<typeof tempDir>;
let kubeconfig: string;
const created: string[] = [];

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

/** The newest mtime of our plugin's sources, to decide whether dist is stale. */
function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of ['src/node/ipam', 'src/multinet']) walk(join(ROOT, d));
  newest = Math.max(newest, statSync(join(ROOT, 'src/cli/ovn-k8s-ipam.ts')).mtimeMs);
  return newest;
}

function runCni(
  command: string,
  config: object,
  vars: { containerId: string; netns: string; ifName: string; args: string },
  plugin = 'macvlan',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', NODE_NS, join(CNI_DIR, plugin)], {
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: command,
        CNI_CONTAINERID: vars.containerId,
        CNI_NETNS: vars.netns,
        CNI_IFNAME: vars.ifName,
        CNI_PATH: `${tmp.dir}:${CNI_DIR}`,
        CNI_ARGS: vars.args,
        // The runtime's environment reaches the IPAM plugin; the seed's kube-ovn ipam section names no kubeconfig.
        OVN_K8S_IPAM_KUBECONFIG: kubeconfig,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(JSON.stringify(config));
  });
}

const nadConfig = (name: string): Record<string, unknown> => {
  const t = env.sim.api.registry.get('k8s.cni.cncf.io', 'network-attachment-definitions')!;
  const nad = env.sim.api.get(t, 'default', name).obj as { spec: { config: string } };
  // Multus hands the delegate its config with the NAD's name when the config has none.
  return { name, ...(JSON.parse(nad.spec.config) as Record<string, unknown>) };
};

interface PodRun {
  name: string;
  uid: string;
  netns: string;
  containerId: string;
  config: Record<string, unknown>;
  extraArgs?: string;
  plugin?: string;
}

const argsOf = (p: PodRun) =>
  `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${p.name};K8S_POD_INFRA_CONTAINER_ID=${p.containerId};K8S_POD_UID=${p.uid}${p.extraArgs ?? ''}`;

const runs: PodRun[] = [];

beforeAll(async () => {
  if (!canRun) return;
  if (!existsSync(PLUGIN_JS) || statSync(PLUGIN_JS).mtimeMs < newestSource()) {
    // tsc emits even when another module of the tree has type errors; only the output matters here.
    spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
    if (!existsSync(PLUGIN_JS)) throw new Error(`${PLUGIN_JS} was not built`);
  }
  tmp = tempDir('h12cni-');
  kubeconfig = join(tmp.dir, 'kubeconfig');
  // The launchers runtimes find in CNI_PATH: our plugin under its own name and under Kube-OVN's.
  const launcher = `#!/bin/sh\nexec nsenter --net=/proc/${process.pid}/ns/net -- ${process.execPath} ${PLUGIN_JS}\n`;
  for (const name of ['ovn-k8s-ipam', 'kube-ovn']) {
    writeFileSync(join(tmp.dir, name), launcher);
    chmodSync(join(tmp.dir, name), 0o755);
  }

  for (const ns of [NODE_NS, ...Object.values(POD_NS)]) {
    ip('netns', 'add', ns);
    created.push(ns);
  }
  ip('-n', NODE_NS, 'link', 'set', 'lo', 'up');
  ip('-n', NODE_NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer');
  ip('-n', NODE_NS, 'link', 'set', 'eth0', 'up');
  ip('-n', NODE_NS, 'link', 'set', 'eth0peer', 'up');
  for (const ns of Object.values(POD_NS)) ip('-n', ns, 'link', 'set', 'lo', 'up');

  env = await startEnv();
  await env.sim.writeKubeconfig(kubeconfig);
  await env.startController();
  await env.applyFixture('004-nad-macvlan');
  await env.applyFixture('004-subnet-macvlan');
  await env.applyFixture('004-pod-samplepod');
  await env.applyFixture('004-pod-static-ip');
}, 180_000);

afterAll(async () => {
  if (!canRun) return;
  for (const r of runs) {
    await runCni('DEL', r.config, {
      containerId: r.containerId,
      netns: r.netns,
      ifName: 'net1',
      args: argsOf(r),
    }).catch(() => undefined);
  }
  for (const ns of created.reverse()) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
  await env?.stop();
  tmp?.cleanup();
});

describe.skipIf(!canRun)('real macvlan CNI with the ovn-k8s-ipam plugin', () => {
  it('gives two pods their allocated and fixed addresses, and they ping each other', async () => {
    const sample = await eventually(() =>
      annotation(env.pod('default', 'samplepod'), IPAM_ALLOCATIONS_ANNOTATION)
        ? env.pod('default', 'samplepod')
        : undefined,
    );
    const fixed = await eventually(() =>
      annotation(env.pod('default', 'static-ip'), IPAM_ALLOCATIONS_ANNOTATION)
        ? env.pod('default', 'static-ip')
        : undefined,
    );
    const fixedMac = parseIpamAllocations(annotation(fixed, IPAM_ALLOCATIONS_ANNOTATION)).net1?.mac;
    expect(fixedMac).toBe('00:00:00:53:6b:bb');

    // Pod A: the seed's NAD config exactly as written (ipam type kube-ovn, served by our launcher).
    const a: PodRun = {
      name: 'samplepod',
      uid: sample.metadata!.uid!,
      netns: `/var/run/netns/${POD_NS.a}`,
      containerId: `ctr-a-${tag}`,
      config: nadConfig('macvlan'),
    };
    // Pod B: the same network with the ipam section naming ovn-k8s-ipam and its kubeconfig;
    // the fixed MAC goes in CNI_ARGS as Multus passes a selection's mac.
    const b: PodRun = {
      name: 'static-ip',
      uid: fixed.metadata!.uid!,
      netns: `/var/run/netns/${POD_NS.b}`,
      containerId: `ctr-b-${tag}`,
      config: { ...nadConfig('macvlan'), ipam: { type: 'ovn-k8s-ipam', kubeconfig, timeoutSeconds: 20 } },
      extraArgs: `;MAC=${fixedMac}`,
    };
    const results: Record<string, unknown>[] = [];
    for (const p of [a, b]) {
      const out = await runCni('ADD', p.config, {
        containerId: p.containerId,
        netns: p.netns,
        ifName: 'net1',
        args: argsOf(p),
      });
      expect(out.code, `${p.name}: ${out.stdout} ${out.stderr}`).toBe(0);
      runs.push(p);
      results.push(JSON.parse(out.stdout) as Record<string, unknown>);
    }
    const addrOf = (r: Record<string, unknown>) => (r.ips as { address: string }[])[0]!.address;
    expect(addrOf(results[0]!)).toBe('172.17.0.11/16');
    expect(addrOf(results[1]!)).toBe('172.17.0.100/16');

    expect(ip('-n', POD_NS.a, '-4', 'addr', 'show', 'net1')).toContain('inet 172.17.0.11/16');
    const linkB = ip('-n', POD_NS.b, 'addr', 'show', 'net1');
    expect(linkB).toContain('inet 172.17.0.100/16');
    expect(linkB).toContain('link/ether 00:00:00:53:6b:bb');

    const ping = (from: string, to: string) =>
      new Promise<number>((resolve) => {
        const c = spawn('ip', ['netns', 'exec', from, 'ping', '-c', '2', '-W', '2', to], { stdio: 'ignore' });
        c.on('close', (code) => resolve(code ?? -1));
      });
    expect(await ping(POD_NS.a, '172.17.0.100')).toBe(0);
    expect(await ping(POD_NS.b, '172.17.0.11')).toBe(0);
    // A negative control: an address nobody holds does not answer.
    expect(await ping(POD_NS.a, '172.17.0.99')).not.toBe(0);

    // The launcher answers VERSION itself too (CHECK is covered by the plugin's unit tests: the
    // seed config's cniVersion 0.3.0 does not allow CHECK through macvlan).
    const check = execFileSync(join(tmp.dir, 'ovn-k8s-ipam'), {
      input: JSON.stringify({
        cniVersion: '1.0.0',
        name: 'macvlan',
        type: 'macvlan',
        ipam: { type: 'ovn-k8s-ipam', kubeconfig },
      }),
      env: { ...process.env, CNI_COMMAND: 'VERSION' },
      encoding: 'utf8',
    });
    expect(JSON.parse(check)).toMatchObject({
      supportedVersions: expect.arrayContaining(['0.3.0', '1.0.0']),
    });
  });

  it('fails ADD with a CNI error when no allocation comes in time', async () => {
    const out = await runCni(
      'ADD',
      { ...nadConfig('macvlan'), ipam: { type: 'ovn-k8s-ipam', kubeconfig, timeoutSeconds: 1 } },
      {
        containerId: `ctr-x-${tag}`,
        netns: `/var/run/netns/${POD_NS.a}`,
        ifName: 'net9',
        args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=nosuchpod',
      },
    );
    expect(out.code).not.toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 110 });
  });
});

describe.skipIf(!canRun)('real bridge CNI with the ovn-k8s-ipam plugin and a SpiderIPPool', () => {
  it('gives two pods the first addresses of the pool named by ipam.spidernet.io/ippool, and they ping each other', async () => {
    const config = {
      cniVersion: '1.0.0',
      name: 'br-net',
      type: 'bridge',
      bridge: `h12br${tag}`,
      ipam: { type: 'ovn-k8s-ipam', kubeconfig },
    };
    env.apply([
      {
        apiVersion: 'spiderpool.spidernet.io/v2beta1',
        kind: 'SpiderIPPool',
        metadata: { name: 'bridge-pool' },
        spec: {
          ips: ['10.77.0.10-10.77.0.20'],
          subnet: '10.77.0.0/24',
          gateway: '10.77.0.1',
          multusName: ['default/br-net'],
        },
      },
      {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: 'br-net', namespace: 'default' },
        spec: { config: JSON.stringify(config) },
      },
    ] as never);
    const pods = env.apply(
      ['bridge-c', 'bridge-d'].map((name) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace: 'default',
          annotations: {
            'k8s.v1.cni.cncf.io/networks': 'default/br-net',
            'ipam.spidernet.io/ippool': '{"ipv4":["bridge-pool"]}',
          },
        },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      })) as never,
    );
    const addrs: string[] = [];
    for (const [i, p] of pods.entries()) {
      const run: PodRun = {
        name: p.metadata.name!,
        uid: p.metadata.uid!,
        netns: `/var/run/netns/${i === 0 ? POD_NS.c : POD_NS.d}`,
        containerId: `ctr-${p.metadata.name}-${tag}`,
        config,
        plugin: 'bridge',
      };
      // The runtime does not wait for the controller: the plugin does (bounded).
      const out = await runCni(
        'ADD',
        config,
        { containerId: run.containerId, netns: run.netns, ifName: 'net1', args: argsOf(run) },
        'bridge',
      );
      expect(out.code, `${run.name}: ${out.stdout} ${out.stderr}`).toBe(0);
      runs.push(run);
      const result = JSON.parse(out.stdout) as {
        ips: { address: string; gateway?: string }[];
        interfaces?: unknown[];
      };
      expect(result.ips[0]!.gateway).toBe('10.77.0.1');
      addrs.push(result.ips[0]!.address);
    }
    expect(addrs).toEqual(['10.77.0.10/24', '10.77.0.11/24']);
    expect(ip('-n', POD_NS.c, '-4', 'addr', 'show', 'net1')).toContain('inet 10.77.0.10/24');
    const ping = (from: string, to: string) =>
      new Promise<number>((resolve) => {
        const c = spawn('ip', ['netns', 'exec', from, 'ping', '-c', '2', '-W', '2', to], { stdio: 'ignore' });
        c.on('close', (code) => resolve(code ?? -1));
      });
    expect(await ping(POD_NS.c, '10.77.0.11')).toBe(0);
    expect(await ping(POD_NS.d, '10.77.0.10')).toBe(0);
    const t = env.sim.api.registry.get('spiderpool.spidernet.io', 'spiderippools')!;
    const status = await eventually(() => {
      const s = env.sim.api.get(t, undefined, 'bridge-pool').obj.status as
        { allocatedIPCount?: number } | undefined;
      return s?.allocatedIPCount === 2 ? s : undefined;
    });
    expect(status).toMatchObject({ allocatedIPCount: 2, totalIPCount: 11 });
  });
});
