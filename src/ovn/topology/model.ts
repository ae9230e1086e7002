/**
 * The logical network as a graph, built from NB rows: routers (gateway routers marked), switches
 * with their ports and subnets, the router<->switch and router<->router links, localnet uplinks,
 * load balancers (direct or through groups), each element tagged with its network (default or a
 * secondary network named by `external_ids:k8s.ovn.org/network` or by its name prefix).
 */
import type {
  LoadBalancer,
  LoadBalancerGroup,
  LogicalRouter,
  LogicalRouterPort,
  LogicalRouterStaticRoute,
  LogicalSwitch,
  LogicalSwitchPort,
  NAT,
} from '../models/nb.js';

export const DEFAULT_NETWORK = 'default';
const NETWORK_ID = 'k8s.ovn.org/network';

/** The NB rows the picture needs (any table may be empty). */
export interface NbSnapshot {
  Logical_Router: readonly LogicalRouter[];
  Logical_Router_Port: readonly LogicalRouterPort[];
  Logical_Switch: readonly LogicalSwitch[];
  Logical_Switch_Port: readonly LogicalSwitchPort[];
  Load_Balancer: readonly LoadBalancer[];
  Load_Balancer_Group: readonly LoadBalancerGroup[];
  Logical_Router_Static_Route?: readonly LogicalRouterStaticRoute[];
  NAT?: readonly NAT[];
}

export interface TopoPort {
  name: string;
  /** "MAC IP..." of switch ports, "MAC NETWORKS" of router ports */
  addresses: string;
  type: string;
}

export interface TopoRouter {
  id: string;
  name: string;
  network: string;
  gateway: boolean;
  chassis?: string;
  ports: TopoPort[];
  routes: string[];
  nats: string[];
}

export interface TopoSwitch {
  id: string;
  name: string;
  network: string;
  subnet?: string;
  ports: TopoPort[];
}

export interface TopoLoadBalancer {
  id: string;
  name: string;
  network: string;
  protocol: string;
  vips: string[];
}

export interface TopoLbGroup {
  id: string;
  name: string;
  loadBalancers: string[];
}

export interface TopoLink {
  from: string;
  to: string;
  label: string;
  kind: 'router-switch' | 'router-router' | 'uplink' | 'lb' | 'lb-group';
}

export interface TopoExternal {
  id: string;
  name: string;
}

export interface Topology {
  networks: string[];
  routers: TopoRouter[];
  switches: TopoSwitch[];
  loadBalancers: TopoLoadBalancer[];
  lbGroups: TopoLbGroup[];
  externals: TopoExternal[];
  links: TopoLink[];
}

/**
 * The network an object belongs to: its `k8s.ovn.org/network` external id, else the network prefix
 * of its name (ovn-kubernetes names secondary network objects "<net with -,/ as .>_<name>", e.g.
 * "l3.network_ovn_cluster_router"), else the default network.
 */
export function networkOf(name: string, externalIds: Readonly<Record<string, string>> = {}): string {
  const id = externalIds[NETWORK_ID];
  if (id && id !== DEFAULT_NETWORK) return id;
  const m = /^([^_]*\.[^_]*)_./.exec(name);
  return m ? m[1]! : DEFAULT_NETWORK;
}

const id = (kind: string, uuid: string) => `${kind}_${uuid.replace(/-/g, '')}`;

function sortByName<T extends { name: string }>(xs: T[]): T[] {
  return xs.sort((a, b) => a.name.localeCompare(b.name));
}

export function buildTopology(nb: NbSnapshot): Topology {
  const lrpByUuid = new Map(nb.Logical_Router_Port.map((p) => [p._uuid, p]));
  const lspByUuid = new Map(nb.Logical_Switch_Port.map((p) => [p._uuid, p]));
  const routeByUuid = new Map((nb.Logical_Router_Static_Route ?? []).map((r) => [r._uuid, r]));
  const natByUuid = new Map((nb.NAT ?? []).map((n) => [n._uuid, n]));
  const routerOfLrp = new Map<string, string>(); // LRP name -> router node id
  const links: TopoLink[] = [];
  const networks = new Set<string>([DEFAULT_NETWORK]);

  const routers: TopoRouter[] = sortByName(
    nb.Logical_Router.map((r) => {
      const rid = id('lr', r._uuid);
      const ports = r.ports
        .map((u) => lrpByUuid.get(u))
        .filter((p): p is LogicalRouterPort => p !== undefined)
        .map((p) => {
          routerOfLrp.set(p.name, rid);
          return { name: p.name, addresses: [p.mac, ...p.networks].join(' '), type: 'router-port' };
        });
      const network = networkOf(r.name, r.external_ids);
      networks.add(network);
      const chassis = r.options.chassis;
      return {
        id: rid,
        name: r.name,
        network,
        gateway: chassis !== undefined && chassis !== '',
        ...(chassis ? { chassis } : {}),
        ports: sortByName(ports),
        routes: r.static_routes
          .map((u) => routeByUuid.get(u))
          .filter((x): x is LogicalRouterStaticRoute => x !== undefined)
          .map(
            (x) =>
              `${x.policy === 'src-ip' ? 'src ' : ''}${x.ip_prefix} via ${x.nexthop}${x.output_port ? ` (${x.output_port})` : ''}`,
          )
          .sort(),
        nats: r.nat
          .map((u) => natByUuid.get(u))
          .filter((x): x is NAT => x !== undefined)
          .map((x) => `${x.type} ${x.logical_ip} -> ${x.external_ip}`)
          .sort(),
      };
    }),
  );

  // router <-> router peers (each pair once)
  for (const p of nb.Logical_Router_Port) {
    if (!p.peer || p.name > p.peer) continue;
    const a = routerOfLrp.get(p.name);
    const b = routerOfLrp.get(p.peer);
    if (a && b) links.push({ from: a, to: b, label: p.networks.join(' '), kind: 'router-router' });
  }

  const externals = new Map<string, TopoExternal>();
  const lbOwners: { owner: string; lbs: string[]; groups: string[] }[] = [];
  const switches: TopoSwitch[] = sortByName(
    nb.Logical_Switch.map((s) => {
      const sid = id('ls', s._uuid);
      const network = networkOf(s.name, s.external_ids);
      networks.add(network);
      const ports = s.ports
        .map((u) => lspByUuid.get(u))
        .filter((p): p is LogicalSwitchPort => p !== undefined)
        .map((p) => {
          if (p.type === 'router') {
            const lrp = p.options['router-port'];
            const rid = lrp ? routerOfLrp.get(lrp) : undefined;
            const lrpRow = lrp ? nb.Logical_Router_Port.find((x) => x.name === lrp) : undefined;
            if (rid)
              links.push({
                from: rid,
                to: sid,
                label: lrpRow ? lrpRow.networks.join(' ') : lrp!,
                kind: 'router-switch',
              });
          } else if (p.type === 'localnet') {
            const net = p.options.network_name ?? p.name;
            const eid = `ext_${net.replace(/[^A-Za-z0-9_]/g, '_')}`;
            if (!externals.has(eid)) externals.set(eid, { id: eid, name: net });
            links.push({
              from: sid,
              to: eid,
              label:
                p.tag_request !== null && p.tag_request !== undefined ? `vlan ${p.tag_request}` : 'localnet',
              kind: 'uplink',
            });
          }
          const addrs = p.addresses.length ? p.addresses.join(' ') : (p.dynamic_addresses ?? '');
          return { name: p.name, addresses: addrs, type: p.type };
        });
      lbOwners.push({ owner: sid, lbs: s.load_balancer, groups: s.load_balancer_group });
      const subnet = s.other_config.subnet ?? s.other_config.ipv6_prefix;
      return { id: sid, name: s.name, network, ...(subnet ? { subnet } : {}), ports: sortByName(ports) };
    }),
  );
  for (const r of nb.Logical_Router)
    lbOwners.push({ owner: id('lr', r._uuid), lbs: r.load_balancer, groups: r.load_balancer_group });

  const loadBalancers: TopoLoadBalancer[] = sortByName(
    nb.Load_Balancer.map((lb) => ({
      id: id('lb', lb._uuid),
      name: lb.name || lb._uuid.slice(0, 8),
      network: networkOf(lb.name, lb.external_ids),
      protocol: lb.protocol ?? 'tcp',
      vips: Object.entries(lb.vips)
        .map(([vip, backends]) => `${vip} -> ${backends || 'reject'}`)
        .sort(),
    })),
  );
  const lbGroups: TopoLbGroup[] = sortByName(
    nb.Load_Balancer_Group.map((g) => ({
      id: id('lbg', g._uuid),
      name: g.name,
      loadBalancers: g.load_balancer.map((u) => id('lb', u)),
    })),
  );
  for (const g of lbGroups)
    for (const lb of g.loadBalancers) links.push({ from: g.id, to: lb, label: '', kind: 'lb-group' });
  for (const o of lbOwners) {
    for (const u of o.lbs) links.push({ from: id('lb', u), to: o.owner, label: '', kind: 'lb' });
    for (const u of o.groups) links.push({ from: id('lbg', u), to: o.owner, label: '', kind: 'lb' });
  }
  const known = new Set(
    [...routers, ...switches, ...loadBalancers, ...lbGroups, ...externals.values()].map((n) => n.id),
  );
  return {
    networks: [...networks].sort((a, b) =>
      a === DEFAULT_NETWORK ? -1 : b === DEFAULT_NETWORK ? 1 : a.localeCompare(b),
    ),
    routers,
    switches,
    loadBalancers,
    lbGroups,
    externals: [...externals.values()],
    links: links.filter((l) => known.has(l.from) && known.has(l.to)),
  };
}
