/**
 * ovn-trace proofs of a converged cluster (used by `ovn-k8s-util demo` and the e2e tests):
 * pod to pod on one node, pod to pod across nodes, pod to a ClusterIP VIP reaching a backend,
 * external traffic to a NodePort on a gateway, and a pod of a node without a gateway reaching the
 * outside through the gateway. Each check traces a packet through the logical flows northd
 * compiled from NB and looks for the expected `output` to the destination port.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { hostIp, macFromIp, ipOf } from '../ovn/intent/addr.js';
import { gatewayRouter, gwRouterToExtPort, gwRouterToJoinPort, localnetPort, podPort } from '../ovn/names.js';
import { DEFAULT_JOIN_SUBNET_V4 } from '../ovn/names.js';
import { run } from '../runtime/process.js';
import { nodeGateway, podNetworkFromAnnotation } from '../watcher/convert.js';

export interface TraceCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface TraceTarget {
  /** NB and SB remotes (unix:... works for ovn-nbctl/ovn-sbctl/ovn-trace) */
  nb: string;
  sb: string;
  env?: NodeJS.ProcessEnv;
  kubeConfig: KubeConfig;
  clusterIpService: { namespace: string; name: string };
  nodePortService: { namespace: string; name: string };
  gateway: { node: string; ip: string; mac: string; nextHop: string; interfaceId: string };
  joinSubnet?: string;
}

interface PodEndpoint {
  port: string;
  node: string;
  mac: string;
  ip: string;
  /** MAC of the node's router port (the pod's gateway) */
  routerMac: string;
}

/** The MAC the watcher gives a router port: derived from its IP (as for every ovn-k router port). */
const OUTSIDE_CLIENT = { mac: '02:00:00:00:00:64', ip: '172.18.0.100' };
const NEXT_HOP_MAC = '02:00:00:00:00:01';
/** an address outside every cluster, join and node subnet: only a default route can reach it */
const OUTSIDE_SERVER = '1.1.1.1';

function endpointOf(pod: V1Pod): PodEndpoint | undefined {
  const net = podNetworkFromAnnotation(pod);
  const node = pod.spec?.nodeName;
  if (!net || !node || !net.gateways[0]) return undefined;
  return {
    port: podPort(pod.metadata!.namespace!, pod.metadata!.name!),
    node,
    mac: net.mac,
    ip: ipOf(net.ips[0]!),
    routerMac: macFromIp(net.gateways[0]),
  };
}

const icmpFrom = (a: PodEndpoint, dstMac: string, dstIp: string): string =>
  `inport=="${a.port}" && eth.src==${a.mac} && eth.dst==${dstMac} && ip4.src==${a.ip} && ip4.dst==${dstIp} && ip.ttl==64 && icmp4.type==8`;

/** Backends `ip:port` of the first `ct_lb_mark(backends=...)` in a detailed trace. */
export function tracedBackends(out: string): string[] {
  const m = /ct_lb_mark\(backends=([^);]*)/.exec(out);
  return m ? m[1]!.split(',').filter((b) => b !== '') : [];
}

export async function runTraceChecks(t: TraceTarget): Promise<TraceCheck[]> {
  const env = t.env ?? process.env;
  const nbctl = (...a: string[]) => run('ovn-nbctl', [`--db=${t.nb}`, '--timeout=30', ...a], { env });
  const sbctl = (...a: string[]) => run('ovn-sbctl', [`--db=${t.sb}`, '--timeout=30', ...a], { env });
  const trace = (...a: string[]) => run('ovn-trace', [`--db=${t.sb}`, ...a], { env });
  await nbctl('--wait=sb', 'sync');
  await learnGatewayNeighbours(sbctl, t);

  const api = t.kubeConfig.makeApiClient(CoreV1Api);
  const pods = (await api.listPodForAllNamespaces()).items;
  const eps = pods.flatMap((p) => endpointOf(p) ?? []);
  const byIp = new Map(eps.map((e) => [e.ip, e]));
  const checks: TraceCheck[] = [];
  const check = async (name: string, body: () => Promise<{ passed: boolean; detail: string }>) => {
    try {
      checks.push({ name, ...(await body()) });
    } catch (err) {
      checks.push({ name, passed: false, detail: (err as Error).message.split('\n')[0]! });
    }
  };

  const sameNodePair = (() => {
    for (const a of eps) {
      const b = eps.find((x) => x !== a && x.node === a.node);
      if (b) return [a, b] as const;
    }
    return undefined;
  })();
  await check('pod to pod on one node', async () => {
    if (!sameNodePair) return { passed: false, detail: 'no two annotated pods share a node' };
    const [a, b] = sameNodePair;
    const out = await trace('--minimal', a.node, icmpFrom(a, b.mac, b.ip));
    return {
      passed: out.includes(`output("${b.port}");`),
      detail: `${a.port} (${a.ip}) -> ${b.port} (${b.ip}) on ${a.node}`,
    };
  });

  await check('pod to pod across nodes', async () => {
    const a = eps[0];
    const c = a && eps.find((x) => x.node !== a.node);
    if (!a || !c) return { passed: false, detail: 'no annotated pods on two nodes' };
    const out = await trace('--minimal', a.node, icmpFrom(a, a.routerMac, c.ip));
    return {
      passed: out.includes(`output("${c.port}");`),
      detail: `${a.port} (${a.ip}, ${a.node}) -> ${c.port} (${c.ip}, ${c.node}) via ovn_cluster_router`,
    };
  });

  await check('pod to a ClusterIP VIP reaches a backend', async () => {
    const svc = await api.readNamespacedService(t.clusterIpService);
    const vip = svc.spec?.clusterIP;
    const port = svc.spec?.ports?.find((p) => (p.protocol ?? 'TCP') === 'TCP')?.port;
    if (!vip || !port) return { passed: false, detail: 'service has no ClusterIP or TCP port' };
    // a client that is not a backend itself, so the trace crosses the network to reach one
    const probe = eps[0]!;
    const flowFrom = (c: PodEndpoint) =>
      `inport=="${c.port}" && eth.src==${c.mac} && eth.dst==${c.routerMac} && ip4.src==${c.ip} && ip4.dst==${vip} && ip.ttl==64 && tcp && tcp.src==33333 && tcp.dst==${port}`;
    const all = tracedBackends(await trace('--ct=new', '--detailed', probe.node, flowFrom(probe)));
    const client = eps.find((e) => !all.some((b) => b.startsWith(`${e.ip}:`))) ?? probe;
    const flow = flowFrom(client);
    const backends = tracedBackends(await trace('--ct=new', '--detailed', client.node, flow));
    const candidates = backends.map((b) => ({ b, ep: byIp.get(b.split(':')[0]!) })).filter((x) => x.ep);
    const target = candidates.find((x) => x.ep!.node !== client.node) ?? candidates[0];
    if (!target)
      return { passed: false, detail: `no backend pod in ct_lb_mark(backends=${backends.join(',')})` };
    const out = await trace('--ct=new', '--ct=new', '--minimal', `--lb-dst=${target.b}`, client.node, flow);
    return {
      passed: out.includes(`output("${target.ep!.port}");`),
      detail: `${client.port} -> ${vip}:${port} -> ct_lb_mark(backends=${backends.join(',')}) -> ${target.ep!.port}`,
    };
  });

  await check('external traffic to a NodePort on the gateway reaches a backend', async () => {
    const svc = await api.readNamespacedService(t.nodePortService);
    const nodePort = svc.spec?.ports?.find((p) => p.nodePort)?.nodePort;
    if (!nodePort) return { passed: false, detail: 'service has no nodePort' };
    const gwIp = ipOf(t.gateway.ip);
    const flow = `inport=="${t.gateway.interfaceId}" && eth.src==${OUTSIDE_CLIENT.mac} && eth.dst==${t.gateway.mac} && ip4.src==${OUTSIDE_CLIENT.ip} && ip4.dst==${gwIp} && ip.ttl==64 && tcp && tcp.src==33333 && tcp.dst==${nodePort}`;
    const ct = Array<string>(4).fill('--ct=new');
    const ext = `ext_${t.gateway.node}`;
    const backends = tracedBackends(await trace(...ct, '--detailed', ext, flow));
    const target = backends.map((b) => ({ b, ep: byIp.get(b.split(':')[0]!) })).find((x) => x.ep);
    if (!target)
      return { passed: false, detail: `no backend pod in ct_lb_mark(backends=${backends.join(',')})` };
    const out = await trace(...ct, '--minimal', `--lb-dst=${target.b}`, ext, flow);
    return {
      passed: out.includes(`output("${target.ep!.port}");`),
      detail: `${OUTSIDE_CLIENT.ip} -> ${gwIp}:${nodePort} on ${gatewayRouter(t.gateway.node)} -> ${target.ep!.port} (${target.b})`,
    };
  });
  await check('a pod of a node without a gateway reaches the outside through the gateway', async () => {
    const nodes = (await api.listNode()).items;
    const gatewayNodes = new Set(nodes.filter((n) => nodeGateway(n)).map((n) => n.metadata!.name!));
    // a gateway node's own pods leave by its src-ip route; only the others need the default route
    const client = eps.find((e) => !gatewayNodes.has(e.node));
    if (!client) return { passed: false, detail: 'no annotated pod on a node without a gateway' };
    const gr = gatewayRouter(t.gateway.node);
    const snatIp = ipOf(t.gateway.ip);
    // the localnet port on ext_<node> is named after the node's interface-id (ovn-k's default otherwise)
    const exitPort = t.gateway.interfaceId || localnetPort(t.gateway.node);
    const flow = `inport=="${client.port}" && eth.src==${client.mac} && eth.dst==${client.routerMac} && ip4.src==${client.ip} && ip4.dst==${OUTSIDE_SERVER} && ip.ttl==64 && tcp && tcp.src==33333 && tcp.dst==443`;
    const detail = `${client.port} (${client.ip}, ${client.node}) -> ${OUTSIDE_SERVER}:443 via ${gr}, SNAT to ${snatIp}, out of ${exitPort}`;
    // the default route has one ECMP member per gateway: follow each until one is this gateway's
    let last = '';
    for (let id = 1; id <= Math.max(1, gatewayNodes.size); id++) {
      const out = await trace(`--select-id=${id}`, '--detailed', client.node, flow);
      const missing = egressMisses(out, t.gateway.node, snatIp, exitPort);
      if (missing.length === 0) return { passed: true, detail };
      last = `${detail}; missing ${missing.join(', ')} (trace ends in ${lastDatapath(out)})`;
    }
    return { passed: false, detail: last };
  });
  return checks;
}

/**
 * What a detailed trace of an egress packet lacks: entering the gateway router from the join
 * switch, the SNAT to the gateway's physical IP, and the output to the gateway's localnet port.
 */
export function egressMisses(out: string, gatewayNode: string, snatIp: string, localnet: string): string[] {
  const gr = gatewayRouter(gatewayNode);
  const wanted: [string, string][] = [
    [`ingress(dp="${gr}", inport="${gwRouterToJoinPort(gatewayNode)}")`, `entry into ${gr}`],
    [`ct_snat(ip4.src=${snatIp})`, `SNAT to ${snatIp}`],
    [`/* output to "${localnet}", type "localnet" */`, `output to ${localnet}`],
  ];
  return wanted.filter(([text]) => !out.includes(text)).map(([, what]) => what);
}

/** The datapath of the last pipeline stage a detailed trace entered (where a dropped packet died). */
function lastDatapath(out: string): string {
  const dps = [...out.matchAll(/(?:ingress|egress)\(dp="([^"]+)"/g)];
  return dps.at(-1)?.[1] ?? 'no datapath';
}

/**
 * Gateway routers learn their neighbours by ARP in the data path (dynamic_neigh_routers=true, as
 * ovn-k). ovn-trace has no data path, so record what ovn-controller would learn: the cluster
 * router's join MAC and the physical next hop's MAC.
 */
async function learnGatewayNeighbours(
  sbctl: (...a: string[]) => Promise<string>,
  t: TraceTarget,
): Promise<void> {
  const gr = gatewayRouter(t.gateway.node);
  const dp = (
    await sbctl('--bare', '--columns=_uuid', 'find', 'Datapath_Binding', `external_ids:name=${gr}`)
  ).trim();
  if (!dp) return;
  const crJoinIp = hostIp(t.joinSubnet ?? DEFAULT_JOIN_SUBNET_V4, 1);
  const bindings: [string, string, string][] = [
    [gwRouterToJoinPort(t.gateway.node), crJoinIp, macFromIp(crJoinIp)],
    [gwRouterToExtPort(t.gateway.node), t.gateway.nextHop, NEXT_HOP_MAC],
  ];
  for (const [port, ip, mac] of bindings) {
    const have = (
      await sbctl('--bare', '--columns=_uuid', 'find', 'MAC_Binding', `logical_port=${port}`, `ip="${ip}"`)
    ).trim();
    if (have) continue;
    await sbctl(
      'create',
      'MAC_Binding',
      `logical_port=${port}`,
      `ip="${ip}"`,
      `mac="${mac}"`,
      `datapath=${dp}`,
    );
  }
}
