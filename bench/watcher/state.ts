/**
 * The simulator's state file for the watcher bench: N nodes, P pods spread over them, S services
 * with two ports and an EndpointSlice of five ready endpoints each. Written once, loaded by the
 * simulator at start (`k8s-sim --state`), which is much faster than creating every object over
 * HTTP and keeps that cost out of the figures.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface ClusterShape {
  nodes: number;
  pods: number;
  services: number;
}

/** 1,000 nodes, 100,000 pods, 10,000 services at scale 1 (at least one of each). */
export function shapeFor(scale: number): ClusterShape {
  return {
    nodes: Math.max(1, Math.round(1000 * scale)),
    pods: Math.max(1, Math.round(100_000 * scale)),
    services: Math.max(1, Math.round(10_000 * scale)),
  };
}

const uid = (kind: number, i: number): string =>
  `00000000-0000-4000-${kind.toString(16).padStart(4, '0')}-${i.toString(16).padStart(12, '0')}`;

const CREATED = '2026-01-01T00:00:00Z';

/** Writes the state file; returns the number of objects in it. */
export async function writeSimState(path: string, shape: ClusterShape): Promise<number> {
  const out = createWriteStream(path);
  let rv = 1;
  let n = 0;
  const write = async (obj: object): Promise<void> => {
    const line = `${n === 0 ? '' : ',\n'}${JSON.stringify(obj)}`;
    n++;
    if (!out.write(line)) await once(out, 'drain');
  };
  out.write('{"version":1,"objects":[\n');
  const meta = (name: string, kind: number, i: number, namespace?: string, extra: object = {}) => ({
    name,
    ...(namespace ? { namespace } : {}),
    uid: uid(kind, i),
    resourceVersion: String(rv++),
    creationTimestamp: CREATED,
    ...extra,
  });
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
    await write({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: meta(ns, 0, n),
      status: { phase: 'Active' },
    });
  for (let i = 0; i < shape.nodes; i++)
    await write({ apiVersion: 'v1', kind: 'Node', metadata: meta(`n${i}`, 1, i), spec: {}, status: {} });
  for (let i = 0; i < shape.pods; i++) {
    await write({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(`p${i}`, 2, i, 'default', { labels: { app: `a${i % shape.services}` } }),
      spec: { nodeName: `n${i % shape.nodes}`, containers: [{ name: 'c', image: 'x' }] },
      status: { phase: 'Pending' },
    });
  }
  for (let i = 0; i < shape.services; i++) {
    const clusterIP = `172.30.${(i >> 8) & 255}.${i & 255}`;
    await write({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(`s${i}`, 3, i, 'default'),
      spec: {
        type: 'ClusterIP',
        clusterIP,
        clusterIPs: [clusterIP],
        ipFamilies: ['IPv4'],
        selector: { app: `a${i}` },
        ports: [
          { name: 'a', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'b', port: 81, targetPort: 8081, protocol: 'TCP' },
        ],
      },
      status: { loadBalancer: {} },
    });
    await write({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: meta(`s${i}-x`, 4, i, 'default', { labels: { 'kubernetes.io/service-name': `s${i}` } }),
      addressType: 'IPv4',
      ports: [
        { name: 'a', port: 8080, protocol: 'TCP' },
        { name: 'b', port: 8081, protocol: 'TCP' },
      ],
      endpoints: [1, 2, 3, 4, 5].map((k) => ({
        addresses: [`10.${200 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${(i & 255) ^ k}`],
        conditions: { ready: true },
      })),
    });
  }
  // the counter goes last: it must be past every object's resourceVersion
  out.write(`\n],"resourceVersion":${rv}}\n`);
  out.end();
  await once(out, 'finish');
  return n;
}
