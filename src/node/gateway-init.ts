/**
 * gateway-init: makes a node a gateway in shared-gateway mode.
 *
 * - With --physical-interface IF the NIC is moved into bridge br<IF> (nics-to-bridge); with
 *   --bridge-interface BR an existing OVS bridge is used as it is.
 * - Open_vSwitch external_ids:ovn-bridge-mappings gets `<physnet>:<bridge>` (other mappings kept),
 *   so ovn-controller patches the localnet port of ext_<node> into that bridge.
 * - The Node is annotated (JSON merge patch) with `k8s.ovn.org/l3-gateway-config` (the watcher
 *   builds GR_<node> and ext_<node> from it) and `k8s.ovn.org/node-chassis-id` = system-id.
 *   --rampout-ip-subnets are recorded in it as `rampout-ip-subnets` (the watcher pins traffic
 *   from those sources to this gateway); without the flag the key is absent.
 */
import { setAnnotations } from '../k8s/annotations.js';
import { normalizeCidr, parseCidr, parseClusterSubnets, parseIp, parseIpWithPrefix } from '../ipam/cidr.js';
import { normalizeMac } from '../ipam/mac.js';
import { NodeConfigError } from './errors.js';
import { IpTool } from './ip.js';
import type { K8sSettings } from './k8s-access.js';
import { nicToBridge } from './nics-to-bridge.js';
import { OvsConfigDb } from './ovs-config.js';

export const L3_GATEWAY_CONFIG_ANNOTATION = 'k8s.ovn.org/l3-gateway-config';
export const NODE_CHASSIS_ID_ANNOTATION = 'k8s.ovn.org/node-chassis-id';
export const DEFAULT_PHYSNET = 'physnet';

export interface GatewayInitOptions {
  nodeName: string;
  clusterSubnets: string[];
  physicalInterface?: string;
  bridgeInterface?: string;
  /** the gateway's address on the external network, IP/LEN */
  physicalIp: string;
  defaultGw?: string;
  rampoutSubnets?: string[];
  ovsAddress: string;
  physnet?: string;
  k8s?: K8sSettings;
  log?: (line: string) => void;
}

/** The `default` entry of k8s.ovn.org/l3-gateway-config, as ovn-kubernetes writes it. */
export interface L3GatewayConfig {
  mode: 'shared' | 'local';
  'interface-id': string;
  'mac-address': string;
  'ip-addresses': string[];
  'next-hops': string[];
  'node-port-enable': string;
  'vlan-id': string;
  /** only for a physical network other than `physnet`: the watcher names the localnet port's network by it */
  'physical-network'?: string;
  /**
   * only with --rampout-ip-subnets: source subnets pinned to this gateway (canonical CIDRs); the
   * watcher adds a src-ip route per subnet on the cluster router via this node's GR
   */
  'rampout-ip-subnets'?: string[];
}

export interface GatewayInitResult {
  bridge: string;
  config: L3GatewayConfig;
  systemId: string;
  annotation: 'patched' | 'unchanged';
  ovsWrites: number;
}

/** The ramp-out subnets as the annotation records them: canonical, each once, in the order given. */
function rampoutSubnets(opts: GatewayInitOptions): string[] {
  return [...new Set((opts.rampoutSubnets ?? []).map((s) => normalizeCidr(s.trim())))];
}

function validate(opts: GatewayInitOptions): void {
  if (!opts.nodeName) throw new NodeConfigError('--node-name is required');
  try {
    if (parseClusterSubnets(opts.clusterSubnets).length === 0) throw new Error('empty');
  } catch (err) {
    throw new NodeConfigError(`--cluster-ip-subnet: ${(err as Error).message}`);
  }
  if (Boolean(opts.physicalInterface) === Boolean(opts.bridgeInterface))
    throw new NodeConfigError('give exactly one of --physical-interface and --bridge-interface');
  try {
    parseIpWithPrefix(opts.physicalIp);
  } catch {
    throw new NodeConfigError(`--physical-ip expects IP/LEN (e.g. 172.16.0.10/24), got "${opts.physicalIp}"`);
  }
  if (opts.defaultGw) {
    try {
      parseIp(opts.defaultGw);
    } catch {
      throw new NodeConfigError(`--default-gw expects an IP address, got "${opts.defaultGw}"`);
    }
  }
  for (const s of opts.rampoutSubnets ?? []) {
    try {
      parseCidr(s.trim());
    } catch (err) {
      throw new NodeConfigError(
        `--rampout-ip-subnets expects comma-separated CIDRs (e.g. 192.168.1.0/24): ${(err as Error).message}`,
      );
    }
  }
}

/** `a:br1,b:br2` with `net` mapped to `bridge` (replacing its old bridge, keeping the others). */
export function mergeBridgeMappings(current: string | undefined, net: string, bridge: string): string {
  const entries = (current ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s.split(':')[0] !== net);
  return [...entries, `${net}:${bridge}`].join(',');
}

export async function gatewayInit(opts: GatewayInitOptions): Promise<GatewayInitResult> {
  validate(opts);
  const rampout = rampoutSubnets(opts);
  const log = opts.log ?? (() => undefined);
  const physnet = opts.physnet ?? DEFAULT_PHYSNET;
  const db = await OvsConfigDb.connect(opts.ovsAddress);
  try {
    const ovs = await db.openVswitch();
    const systemId = ovs.externalIds['system-id'];
    if (!systemId)
      throw new NodeConfigError(
        `the Open_vSwitch row at ${opts.ovsAddress} has no external_ids:system-id; run minion-init first`,
      );

    let bridge: string;
    if (opts.physicalInterface) {
      bridge = (await nicToBridge(opts.physicalInterface, { ovsAddress: opts.ovsAddress, log }, db)).bridge;
    } else {
      bridge = opts.bridgeInterface!;
      if (!(await db.bridge(bridge)))
        throw new NodeConfigError(`--bridge-interface ${bridge}: no such OVS bridge in ${opts.ovsAddress}`);
    }
    const br = await db.bridge(bridge);
    const ip = new IpTool();
    const link = await ip.link(bridge);
    const mac = br?.otherConfig.hwaddr ?? link?.address;
    if (!mac)
      throw new NodeConfigError(`bridge ${bridge} has no MAC address (no other_config:hwaddr, no device)`);

    let nextHop = opts.defaultGw;
    if (!nextHop) {
      const routes = link ? await ip.routes(bridge) : [];
      nextHop = routes.find((r) => r.dst === 'default' && r.gateway && r.family === 4)?.gateway;
      if (!nextHop)
        throw new NodeConfigError(
          `no default route through ${bridge} to take the next hop from; pass --default-gw`,
        );
    }

    const mappings = mergeBridgeMappings(ovs.externalIds['ovn-bridge-mappings'], physnet, bridge);
    const changed = await db.setOvsExternalIds({ 'ovn-bridge-mappings': mappings });
    if (changed.length > 0) log(`ovn-bridge-mappings=${mappings}`);

    const config: L3GatewayConfig = {
      mode: 'shared',
      'interface-id': `${bridge}_${opts.nodeName}`,
      'mac-address': normalizeMac(mac),
      'ip-addresses': [opts.physicalIp],
      'next-hops': [nextHop],
      'node-port-enable': 'true',
      'vlan-id': '0',
      // ovn-kubernetes has no such key (its network is always "physnet"); our watcher reads it so
      // that the localnet port's network_name matches the ovn-bridge-mappings entry set above
      ...(physnet !== DEFAULT_PHYSNET ? { 'physical-network': physnet } : {}),
      // absent when not given, so the annotation of a gateway without ramp-out stays as it was
      ...(rampout.length > 0 ? { 'rampout-ip-subnets': rampout } : {}),
    };
    // loaded on demand so that the other subcommands of the same binary start fast
    const { connectK8s } = await import('./k8s-access.js');
    const k8s = connectK8s(opts.k8s ?? {}, ovs.externalIds);
    const res = await setAnnotations(
      k8s.nodes,
      { name: opts.nodeName },
      {
        [L3_GATEWAY_CONFIG_ANNOTATION]: JSON.stringify({ default: config }),
        [NODE_CHASSIS_ID_ANNOTATION]: systemId,
      },
    );
    if (res.status === 'not-found')
      throw new NodeConfigError(
        `Node ${opts.nodeName} does not exist in the Kubernetes API at ${k8s.server}`,
      );
    if (res.status === 'patched') log(`annotated Node ${opts.nodeName} with ${L3_GATEWAY_CONFIG_ANNOTATION}`);
    return {
      bridge,
      config,
      systemId,
      annotation: res.status === 'patched' ? 'patched' : 'unchanged',
      ovsWrites: db.writes,
    };
  } finally {
    db.close();
  }
}
