/**
 * Spiderpool's vocabulary (spidernet-io/spiderpool docs/reference/annotation.md, v2beta1 types):
 * the pod annotations naming pools (`ipam.spidernet.io/ippool`, `ipam.spidernet.io/ippools`),
 * the per-interface record of what was assigned (`ipam.spidernet.io/assigned-<iface>`), and
 * SpiderMultusConfig specs turned into the NAD config they stand for, wired to our IPAM plugin.
 */
import { isJsonObject, OVN_K8S_IPAM_TYPE, type JsonObject } from './cni-config.js';
import { InvalidAnnotationError, InvalidMultusConfigError } from './errors.js';

export const SPIDER_IPPOOL_ANNOTATION = 'ipam.spidernet.io/ippool';
export const SPIDER_IPPOOLS_ANNOTATION = 'ipam.spidernet.io/ippools';
export const SPIDER_ASSIGNED_PREFIX = 'ipam.spidernet.io/assigned-';
/** Namespace annotations naming default pools. */
export const SPIDER_NS_DEFAULT_V4 = 'ipam.spidernet.io/default-ipv4-ippool';
export const SPIDER_NS_DEFAULT_V6 = 'ipam.spidernet.io/default-ipv6-ippool';

export interface SpiderPoolSelection {
  /** Interface the pools are for; undefined for `ippool` (any interface without an `ippools` entry). */
  interface?: string;
  ipv4: string[];
  ipv6: string[];
  cleanGateway?: boolean;
}

const names = (v: unknown, where: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
    throw new InvalidAnnotationError(`${where} must be a list of pool names`);
  }
  return v as string[];
};

function parseOne(el: unknown, where: string): SpiderPoolSelection {
  if (!isJsonObject(el)) throw new InvalidAnnotationError(`${where} must be a JSON object`);
  if (el.interface !== undefined && typeof el.interface !== 'string') {
    throw new InvalidAnnotationError(`${where}: "interface" must be a string`);
  }
  const ipv4 = names(el.ipv4, `${where}: "ipv4"`);
  const ipv6 = names(el.ipv6, `${where}: "ipv6"`);
  if (ipv4.length === 0 && ipv6.length === 0) throw new InvalidAnnotationError(`${where} names no pool`);
  return {
    ...(typeof el.interface === 'string' && el.interface ? { interface: el.interface } : {}),
    ipv4,
    ipv6,
    ...(typeof el.cleangateway === 'boolean' ? { cleanGateway: el.cleangateway } : {}),
  };
}

function json(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidAnnotationError(`${key} is not JSON: ${(err as Error).message}`);
  }
}

/**
 * The pool selections of a pod: `ippools` entries (per interface) then `ippool` (for any other
 * interface). Spiderpool gives `ippools` priority when both are present.
 */
export function spiderPoolSelections(
  annotations: Readonly<Record<string, string>> | undefined,
): SpiderPoolSelection[] {
  const out: SpiderPoolSelection[] = [];
  const multi = annotations?.[SPIDER_IPPOOLS_ANNOTATION];
  if (multi !== undefined && multi.trim() !== '') {
    const raw = json(multi, SPIDER_IPPOOLS_ANNOTATION);
    if (!Array.isArray(raw))
      throw new InvalidAnnotationError(`${SPIDER_IPPOOLS_ANNOTATION} must be a JSON list`);
    raw.forEach((el, i) => {
      const sel = parseOne(el, `${SPIDER_IPPOOLS_ANNOTATION} entry ${i}`);
      if (!sel.interface)
        throw new InvalidAnnotationError(`${SPIDER_IPPOOLS_ANNOTATION} entry ${i} has no "interface"`);
      out.push(sel);
    });
  }
  const single = annotations?.[SPIDER_IPPOOL_ANNOTATION];
  if (single !== undefined && single.trim() !== '') {
    const sel = parseOne(json(single, SPIDER_IPPOOL_ANNOTATION), SPIDER_IPPOOL_ANNOTATION);
    out.push({ ...sel, interface: undefined });
  }
  return out;
}

/** The selection that applies to `iface`, if the pod names pools for it. */
export function spiderPoolsForInterface(
  selections: readonly SpiderPoolSelection[],
  iface: string,
): SpiderPoolSelection | undefined {
  return selections.find((s) => s.interface === iface) ?? selections.find((s) => s.interface === undefined);
}

/** What was assigned on one interface (addresses with prefix length, as Spiderpool shows them). */
export interface SpiderAssigned {
  interface: string;
  ipv4pool?: string;
  ipv6pool?: string;
  ipv4?: string;
  ipv6?: string;
  vlan?: number;
}

export const spiderAssignedKey = (iface: string): string => `${SPIDER_ASSIGNED_PREFIX}${iface}`;

export function formatSpiderAssigned(a: SpiderAssigned): string {
  return JSON.stringify({
    interface: a.interface,
    ipv4pool: a.ipv4pool ?? '',
    ipv6pool: a.ipv6pool ?? '',
    ipv4: a.ipv4 ?? '',
    ipv6: a.ipv6 ?? '',
    vlan: a.vlan ?? 0,
  });
}

/** Every `assigned-<iface>` record of a pod; malformed ones are skipped (they are ours to rewrite). */
export function spiderAssignedRecords(
  annotations: Readonly<Record<string, string>> | undefined,
): SpiderAssigned[] {
  const out: SpiderAssigned[] = [];
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (!k.startsWith(SPIDER_ASSIGNED_PREFIX)) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(v);
    } catch {
      continue;
    }
    if (!isJsonObject(raw)) continue;
    const s = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined);
    const iface = s(raw.interface) ?? k.slice(SPIDER_ASSIGNED_PREFIX.length);
    const rec: SpiderAssigned = { interface: iface };
    if (s(raw.ipv4pool)) rec.ipv4pool = s(raw.ipv4pool);
    if (s(raw.ipv6pool)) rec.ipv6pool = s(raw.ipv6pool);
    if (s(raw.ipv4)) rec.ipv4 = s(raw.ipv4);
    if (s(raw.ipv6)) rec.ipv6 = s(raw.ipv6);
    if (typeof raw.vlan === 'number') rec.vlan = raw.vlan;
    out.push(rec);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SpiderMultusConfig

export interface SpiderIppoolsDefault {
  ipv4?: string[];
  ipv6?: string[];
}

export interface SpiderMacvlanLike {
  master?: string[];
  vlanID?: number;
  bond?: { name?: string; mode?: number; options?: string };
  ippools?: SpiderIppoolsDefault;
}

export interface SpiderOvsConfig {
  bridge?: string;
  vlan?: number;
  trunk?: { minID?: number; maxID?: number; id?: number }[];
  deviceID?: string;
  ippools?: SpiderIppoolsDefault;
}

export interface SpiderMultusConfigSpec {
  cniType?: string;
  macvlan?: SpiderMacvlanLike;
  ipvlan?: SpiderMacvlanLike;
  ovs?: SpiderOvsConfig;
  customCNI?: string;
}

export interface MultusConfigOptions {
  /** Kubeconfig path our IPAM plugin reads on the nodes. */
  ipamKubeconfig?: string;
  cniVersion?: string;
}

export const DEFAULT_CNI_VERSION = '0.3.1';

function vlanId(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4094) {
    throw new InvalidMultusConfigError(`${where} must be an integer from 1 to 4094`);
  }
  return v;
}

function ipamSection(pools: SpiderIppoolsDefault | undefined, opts: MultusConfigOptions): JsonObject {
  const ipam: JsonObject = { type: OVN_K8S_IPAM_TYPE, model: 'spiderpool' };
  if (opts.ipamKubeconfig) ipam.kubeconfig = opts.ipamKubeconfig;
  if (pools?.ipv4 && pools.ipv4.length > 0) ipam.default_ipv4_ippool = [...pools.ipv4];
  if (pools?.ipv6 && pools.ipv6.length > 0) ipam.default_ipv6_ippool = [...pools.ipv6];
  return ipam;
}

function masterOf(c: SpiderMacvlanLike, where: string): string {
  const masters = c.master ?? [];
  if (masters.length === 0) throw new InvalidMultusConfigError(`${where}.master names no interface`);
  let master: string;
  if (masters.length > 1) {
    if (!c.bond?.name) {
      throw new InvalidMultusConfigError(
        `${where}.master names ${masters.length} interfaces but no bond.name`,
      );
    }
    master = c.bond.name;
  } else {
    master = masters[0]!;
  }
  const vlan = vlanId(c.vlanID, `${where}.vlanID`);
  return vlan ? `${master}.${vlan}` : master;
}

/**
 * The NAD `spec.config` a SpiderMultusConfig stands for (a config list named after the resource).
 * Throws InvalidMultusConfigError naming the field at fault.
 */
export function multusConfigToNadConfig(
  namespace: string,
  name: string,
  spec: SpiderMultusConfigSpec,
  opts: MultusConfigOptions = {},
): string {
  const where = `SpiderMultusConfig ${namespace}/${name}: spec`;
  const cniType = spec.cniType ?? 'custom';
  let plugin: JsonObject;
  switch (cniType) {
    case 'macvlan': {
      const c = spec.macvlan ?? {};
      plugin = {
        type: 'macvlan',
        master: masterOf(c, `${where}.macvlan`),
        mode: 'bridge',
        ipam: ipamSection(c.ippools, opts),
      };
      break;
    }
    case 'ipvlan': {
      const c = spec.ipvlan ?? {};
      plugin = { type: 'ipvlan', master: masterOf(c, `${where}.ipvlan`), ipam: ipamSection(c.ippools, opts) };
      break;
    }
    case 'ovs': {
      const c = spec.ovs;
      if (!c?.bridge) throw new InvalidMultusConfigError(`${where}.ovs.bridge is required`);
      plugin = { type: 'ovs', bridge: c.bridge };
      const vlan = vlanId(c.vlan, `${where}.ovs.vlan`);
      if (vlan !== undefined) plugin.vlan = vlan;
      if (c.trunk && c.trunk.length > 0) plugin.trunk = c.trunk.map((t) => ({ ...t }));
      if (c.deviceID) plugin.deviceID = c.deviceID;
      plugin.ipam = ipamSection(c.ippools, opts);
      break;
    }
    case 'custom': {
      if (!spec.customCNI)
        throw new InvalidMultusConfigError(`${where}.customCNI is required for cniType custom`);
      try {
        const parsed: unknown = JSON.parse(spec.customCNI);
        if (!isJsonObject(parsed)) throw new Error('not a JSON object');
      } catch (err) {
        throw new InvalidMultusConfigError(
          `${where}.customCNI is not a JSON object: ${(err as Error).message}`,
        );
      }
      return spec.customCNI;
    }
    default:
      throw new InvalidMultusConfigError(
        `${where}.cniType ${cniType} is not supported (macvlan, ipvlan, ovs, custom)`,
      );
  }
  return JSON.stringify({ cniVersion: opts.cniVersion ?? DEFAULT_CNI_VERSION, name, plugins: [plugin] });
}
