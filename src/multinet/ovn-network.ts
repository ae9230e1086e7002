/**
 * The config of an ovn-kubernetes secondary network (`"type": "ovn-k8s-cni-overlay"` in a NAD),
 * validated as ovn-kubernetes documents it (docs/features/multiple-networks/multi-homing.md):
 * topology layer3 (per-node subnets `cidr/hostPrefix`), layer2 or localnet (plain CIDRs, optional),
 * `excludeSubnets` (layer2/localnet), `vlanID` and `physicalNetworkName` (localnet), `role`
 * (primary|secondary, not on localnet), `mtu`. Networks are not namespaced: every NAD naming the
 * same network must carry the same config (`sameNetworkConfig`).
 */
import {
  type ClusterSubnet,
  type Cidr,
  cidrContainsCidr,
  formatCidr,
  formatClusterSubnet,
  parseCidr,
  parseClusterSubnet,
  parseIpRange,
} from '../ipam/index.js';
import { parseCniConfig, isJsonObject, OVN_OVERLAY_CNI_TYPE, type JsonObject } from './cni-config.js';
import { InvalidNetworkConfigError } from './errors.js';

export type Topology = 'layer3' | 'layer2' | 'localnet';
export type NetworkRole = 'primary' | 'secondary';

export interface OvnNetworkConfig {
  /** The network name (shared by every NAD of the network). */
  name: string;
  topology: Topology;
  /** `<ns>/<nad>` of the NAD this config came from. */
  netAttachDefName: string;
  /** layer3: cluster subnet + host prefix per family; layer2/localnet: hostPrefix is the CIDR's own length. */
  subnets: ClusterSubnet[];
  /** Normalized CIDRs (single IPs become /32 or /128). */
  excludeSubnets: string[];
  mtu?: number;
  role: NetworkRole;
  vlanID?: number;
  physicalNetworkName?: string;
  allowPersistentIPs: boolean;
  /** The prefix of every OVN object of this network: name with `-` and `/` as `.`, plus `_`. */
  prefix: string;
}

const TOPOLOGIES: readonly Topology[] = ['layer3', 'layer2', 'localnet'];

/** ovn-kubernetes' object-name prefix of a network (`l3-network` -> `l3.network_`). */
export function networkPrefix(name: string): string {
  return `${name.replace(/[-/]/g, '.')}_`;
}

const splitComma = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * Parses and validates the config of NAD `namespace/nadName`. Throws InvalidNetworkConfigError
 * naming the field at fault.
 */
export function parseOvnNetworkConfig(
  configText: string | undefined,
  namespace: string,
  nadName: string,
): OvnNetworkConfig {
  const where = `${namespace}/${nadName}`;
  const cfg = parseCniConfig(configText, where).main as JsonObject;
  const fail = (msg: string): never => {
    throw new InvalidNetworkConfigError(`NetworkAttachmentDefinition ${where}: ${msg}`);
  };
  if (cfg.type !== OVN_OVERLAY_CNI_TYPE) fail(`type is ${String(cfg.type)}, not ${OVN_OVERLAY_CNI_TYPE}`);
  const name = cfg.name;
  if (typeof name !== 'string' || name === '') return fail('"name" (the network name) is required');
  if (name === 'default') fail('"default" is the name of the cluster network');
  const topologyRaw = cfg.topology ?? 'layer3';
  if (typeof topologyRaw !== 'string' || !TOPOLOGIES.includes(topologyRaw.toLowerCase() as Topology)) {
    fail(`topology ${JSON.stringify(topologyRaw)} is not one of ${TOPOLOGIES.join(', ')}`);
  }
  const topology = (topologyRaw as string).toLowerCase() as Topology;
  const nadRef = cfg.netAttachDefName;
  if (typeof nadRef !== 'string' || nadRef === '') return fail('"netAttachDefName" is required');
  if (nadRef !== where) fail(`netAttachDefName is ${nadRef} but the NAD is ${where}`);

  const str = (key: string): string | undefined => {
    const v = cfg[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return fail(`"${key}" must be a string`);
    return v;
  };

  const subnetsText = str('subnets');
  const subnets: ClusterSubnet[] = [];
  for (const s of subnetsText ? splitComma(subnetsText) : []) {
    try {
      if (topology === 'layer3') {
        subnets.push(parseClusterSubnet(s));
      } else {
        if (s.split('/').length > 2) fail(`subnet ${s}: a host prefix is only valid for layer3`);
        const cidr: Cidr = parseCidr(s);
        subnets.push({ cidr, hostPrefixLength: cidr.prefixLength });
      }
    } catch (err) {
      if (err instanceof InvalidNetworkConfigError) throw err;
      fail(`subnet ${s}: ${(err as Error).message}`);
    }
  }
  if (topology === 'layer3' && subnets.length === 0) fail('layer3 needs "subnets" (e.g. 10.128.0.0/16/24)');
  const families = subnets.map((s) => s.cidr.family);
  if (new Set(families).size !== families.length) fail('subnets has two subnets of one family');

  const excludeText = str('excludeSubnets');
  const excludeSubnets: string[] = [];
  if (excludeText) {
    if (topology === 'layer3') fail('excludeSubnets is only valid for layer2 and localnet');
    for (const e of splitComma(excludeText)) {
      try {
        const cidr = e.includes('/')
          ? parseCidr(e)
          : parseCidr(`${e}/${parseIpRange(e).family === 4 ? 32 : 128}`);
        if (!subnets.some((s) => s.cidr.family === cidr.family && cidrContainsCidr(s.cidr, cidr))) {
          fail(`excludeSubnets entry ${e} is not inside any of the subnets`);
        }
        excludeSubnets.push(formatCidr(cidr));
      } catch (err) {
        if (err instanceof InvalidNetworkConfigError) throw err;
        fail(`excludeSubnets entry ${e}: ${(err as Error).message}`);
      }
    }
  }

  const num = (key: string, min: number, max: number): number | undefined => {
    const v = cfg[key];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      fail(`"${key}" must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return n as number;
  };
  const mtu = num('mtu', 576, 65535);
  const vlanID = num('vlanID', 1, 4094);
  const physicalNetworkName = str('physicalNetworkName');
  if (topology !== 'localnet') {
    if (vlanID !== undefined) fail('vlanID is only valid for localnet');
    if (physicalNetworkName !== undefined) fail('physicalNetworkName is only valid for localnet');
  }
  const roleRaw = str('role') ?? 'secondary';
  if (roleRaw !== 'primary' && roleRaw !== 'secondary') fail(`role ${roleRaw} is not primary or secondary`);
  const role = roleRaw as NetworkRole;
  if (role === 'primary' && topology === 'localnet') fail('role primary is not valid on localnet');
  const allowPersistentIPs = cfg.allowPersistentIPs === true;
  if (allowPersistentIPs && topology === 'layer3')
    fail('allowPersistentIPs is only valid for layer2 and localnet');

  return {
    name,
    topology,
    netAttachDefName: nadRef,
    subnets,
    excludeSubnets,
    ...(mtu !== undefined ? { mtu } : {}),
    role,
    ...(vlanID !== undefined ? { vlanID } : {}),
    ...(physicalNetworkName !== undefined ? { physicalNetworkName } : {}),
    allowPersistentIPs,
    prefix: networkPrefix(name),
  };
}

/** A config reduced to what must agree between NADs of one network (netAttachDefName excluded). */
export function networkIdentity(c: OvnNetworkConfig): string {
  return JSON.stringify({
    name: c.name,
    topology: c.topology,
    subnets: c.subnets.map(formatClusterSubnet),
    excludeSubnets: c.excludeSubnets,
    mtu: c.mtu ?? null,
    role: c.role,
    vlanID: c.vlanID ?? null,
    physicalNetworkName: c.physicalNetworkName ?? null,
    allowPersistentIPs: c.allowPersistentIPs,
  });
}

/** True when two NADs describe the same network the same way (ovn-k requires it). */
export function sameNetworkConfig(a: OvnNetworkConfig, b: OvnNetworkConfig): boolean {
  return networkIdentity(a) === networkIdentity(b);
}

/** True when a NAD config text is an ovn-kubernetes network (without validating the rest). */
export function isOvnNetworkConfig(configText: string | undefined): boolean {
  try {
    const raw: unknown = JSON.parse(configText ?? '');
    return isJsonObject(raw) && raw.type === OVN_OVERLAY_CNI_TYPE;
  } catch {
    return false;
  }
}
