/**
 * Nodes: a host subnet per node (stable: the `k8s.ovn.org/node-subnets` annotation, else the
 * subnet of an existing node switch - minion-init's explicit one -, else a new one), the node's
 * switch, router ports and management port, and its gateway when the node describes one
 * (`k8s.ovn.org/l3-gateway-config` + `k8s.ovn.org/node-chassis-id`). A deleted node loses all of
 * it and its subnet is freed. The subnets are published on the node once NB has the rows.
 */
import type { V1Node } from '@kubernetes/client-node';
import { annotateObject, type AnnotationChanges } from '../k8s/annotations.js';
import { POD_NODE_INDEX } from '../k8s/factory.js';
import { objectKey } from '../k8s/resources.js';
import { gatewayRows, nodeRows, type GatewayInfo, type NodeInfo } from '../ovn/intent/index.js';
import { ipOf, parseCidr } from '../ovn/intent/addr.js';
import {
  NODE_GATEWAY_ROUTER_LRP_IFADDRS_ANNOTATION,
  NODE_SUBNETS_ANNOTATION,
  gwRouterToJoinPort,
  nodeOwner,
  nodeSwitch,
} from '../ovn/names.js';
import type { NbView } from '../ovn/reconcile/view.js';
import { applyOwned, nodeKey, podKey, serviceKey, type ControllerContext } from './context.js';
import {
  gatewayJoinIpsAnnotation,
  gatewayJoinIpsFromAnnotation,
  mgmtMacFromAnnotation,
  nodeGateway,
  nodeSubnetsAnnotation,
  nodeSubnetsFromAnnotation,
} from './convert.js';
import { otherNetworkSubnets } from './secondary-annotations.js';
import { compareCreation } from '../k8s/order.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The subnets an existing node switch was created with (minion-init / master-init, or us). */
export function switchSubnets(view: NbView, node: string): string[] {
  const sw = view.byName('Logical_Switch', nodeSwitch(node))[0];
  const cfg = sw?.other_config as Record<string, unknown> | undefined;
  const out: string[] = [];
  const v4 = str(cfg?.subnet);
  if (v4) out.push(v4);
  const v6 = str(cfg?.ipv6_prefix);
  if (v6) out.push(v6.includes('/') ? v6 : `${v6}/64`);
  return out;
}

/** The join IPs an existing gateway router port has. */
export function existingJoinIps(view: NbView, node: string): string[] {
  const lrp = view.byName('Logical_Router_Port', gwRouterToJoinPort(node))[0];
  return Array.isArray(lrp?.networks) ? lrp.networks.filter((x): x is string => typeof x === 'string') : [];
}

const creationOrder = (a: V1Node, b: V1Node): number =>
  compareCreation(a, b) || String(a.metadata?.name).localeCompare(String(b.metadata?.name));

export class NodeController {
  /** the gateway physical IPs per node, as last reconciled (NodePort VIPs follow them) */
  private readonly gatewayIps = new Map<string, string[]>();
  /** set while the watcher starts: it queues every pod itself once the nodes are done */
  holdPods = false;

  constructor(private readonly ctx: ControllerContext) {}

  /**
   * Start-up: rebuild the subnet and join-IP bookkeeping from what the nodes and NB record, oldest
   * node first, before any key runs.
   */
  rebuild(): void {
    const { informers, view, ipam } = this.ctx;
    const nodes = informers.nodes.store.list().sort(creationOrder);
    ipam.rebuildHostSubnets(
      nodes.map((n) => {
        const name = n.metadata!.name!;
        const recorded = nodeSubnetsFromAnnotation(n);
        return { owner: name, subnets: recorded.length > 0 ? recorded : switchSubnets(view, name) };
      }),
    );
    ipam.rebuildJoinIps(
      nodes
        .filter((n) => nodeGateway(n))
        .map((n) => {
          const name = n.metadata!.name!;
          const recorded = gatewayJoinIpsFromAnnotation(n);
          const ips = recorded.length > 0 ? recorded : existingJoinIps(view, name);
          return { key: name, ips: ips.map(ipOf) };
        }),
    );
    for (const n of nodes) {
      const gw = nodeGateway(n);
      if (gw) this.gatewayIps.set(n.metadata!.name!, gw.ips.map(ipOf));
    }
  }

  /** The physical IPs of every gateway, in node order (NodePort VIPs). */
  allGatewayIps(): string[] {
    return [...this.gatewayIps.keys()].sort().flatMap((n) => this.gatewayIps.get(n)!);
  }

  async sync(name: string): Promise<void> {
    const { ctx } = this;
    const key = nodeKey(name);
    const node = ctx.informers.nodes.store.get(name);
    if (!node) {
      await applyOwned(ctx, key, nodeOwner(name), []);
      ctx.ipam.releaseNode(name);
      this.setGateway(name, undefined);
      return;
    }
    const explicit = nodeSubnetsFromAnnotation(node);
    const subnets = ctx.ipam.nodeSubnets(
      name,
      explicit.length > 0 ? explicit : switchSubnets(ctx.view, name),
    );
    const info: NodeInfo = { name, subnets };
    const mgmtMac = mgmtMacFromAnnotation(node);
    if (mgmtMac) info.mgmtMac = mgmtMac;
    const gw = nodeGateway(node);
    let gateway: GatewayInfo | undefined;
    if (gw) {
      const recorded = gatewayJoinIpsFromAnnotation(node);
      const joinIps = ctx.ipam.joinIps(
        name,
        recorded.length > 0 ? recorded : existingJoinIps(ctx.view, name),
      );
      gateway = { ...gw, joinIps: this.joinIpsForFamilies(joinIps, subnets) };
      info.gateway = gateway;
    } else {
      ctx.ipam.releaseJoinIps(name);
    }
    const result = await applyOwned(ctx, key, nodeOwner(name), [
      ...nodeRows(info),
      ...gatewayRows(info, ctx.config),
    ]);
    const changes: Record<string, string | null> = {
      // secondary networks' entries (network-controller.ts) are kept
      [NODE_SUBNETS_ANNOTATION]: nodeSubnetsAnnotation(subnets, otherNetworkSubnets(node)),
    };
    if (gateway)
      changes[NODE_GATEWAY_ROUTER_LRP_IFADDRS_ANNOTATION] = gatewayJoinIpsAnnotation(gateway.joinIps);
    await this.annotate(node, changes);
    this.setGateway(name, gateway);
    // pods waiting for this node's switch can go now
    if (result.inserted.size > 0 && !this.holdPods)
      for (const pod of ctx.informers.pods.store.byIndex(POD_NODE_INDEX, name))
        ctx.enqueue(podKey(objectKey(pod)));
  }

  /** Only join IPs of families the node has: a v4-only node gets no v6 join address. */
  private joinIpsForFamilies(joinIps: string[], subnets: string[]): string[] {
    const families = new Set(subnets.map((s) => parseCidr(s).family));
    const picked = joinIps.filter((ip) => families.has(parseCidr(ip).family));
    return picked.length > 0 ? picked : joinIps;
  }

  private async annotate(node: V1Node, changes: AnnotationChanges): Promise<void> {
    const res = await annotateObject(this.ctx.clients.nodes, node, changes);
    if (res.status === 'not-found' || res.status === 'replaced')
      this.ctx.log.debug({ node: node.metadata?.name, status: res.status }, 'node annotation skipped');
  }

  /** Records the node's gateway IPs; NodePort services are queued again when they changed. */
  private setGateway(name: string, gw: GatewayInfo | undefined): void {
    const before = (this.gatewayIps.get(name) ?? []).join(',');
    const ips = gw ? gw.ips.map(ipOf) : [];
    if (ips.length > 0) this.gatewayIps.set(name, ips);
    else this.gatewayIps.delete(name);
    if (before === ips.join(',')) return;
    for (const svc of this.ctx.informers.services.store.list()) {
      const t = svc.spec?.type;
      if (t === 'NodePort' || t === 'LoadBalancer') this.ctx.enqueue(serviceKey(objectKey(svc)));
    }
  }
}
