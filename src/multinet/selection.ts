/**
 * Pod network selection as Multus reads it (k8snetworkplumbingwg/multus-cni pkg/k8sclient):
 *
 * - `k8s.v1.cni.cncf.io/networks`: a comma list of `name`, `ns/name`, `name@iface`,
 *   `ns/name@iface`, or a JSON array of selection elements (`name`, `namespace`, `interface`,
 *   `ips`, `mac`, `default-route`, `ipam-claim-reference`, `cni-args`...).
 * - `v1.multus-cni.io/default-network`: one `ns/name` (or `name`) replacing the cluster network.
 *
 * Interface names follow Multus: the cluster (or replacing default) network is `eth0`, and an
 * attachment without `interface` at list position i (0-based) is `net<i+1>`.
 */
import { InvalidNetworkSelectionError } from './errors.js';
import { isJsonObject } from './cni-config.js';

export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
export const DEFAULT_NETWORK_ANNOTATION = 'v1.multus-cni.io/default-network';
export const DEFAULT_INTERFACE = 'eth0';

export interface NetworkSelection {
  /** NAD name. */
  name: string;
  /** NAD namespace (the pod's when not given). */
  namespace: string;
  /** The interface in the pod: given, or `net<i+1>` (`eth0` for the default network). */
  interface: string;
  /** True when `interface` was named by the user. */
  interfaceRequested: boolean;
  /** Requested addresses, as written (may carry a prefix length). */
  ips?: string[];
  mac?: string;
  /** Gateways for default routes through this interface. */
  defaultRoute?: string[];
  ipamClaimReference?: string;
  /** Other fields of a JSON element, kept for the CNI side (cni-args, bandwidth...). */
  extra?: Record<string, unknown>;
}

/** `ns/nad`, the key Multus uses in network-status and ovn-k in pod-networks. */
export const selectionKey = (s: { namespace: string; name: string }): string => `${s.namespace}/${s.name}`;

// DNS-1123 subdomain (NAD and namespace names).
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Linux interface names: 1-15 bytes, no '/', ':' or whitespace.
const IFACE_RE = /^[^\s/:]{1,15}$/;

function checkName(what: string, v: string, whole: string): void {
  if (!NAME_RE.test(v) || v.length > 253) {
    throw new InvalidNetworkSelectionError(
      `network selection "${whole}": ${what} "${v}" is not a valid name`,
    );
  }
}

function checkIface(v: string, whole: string): void {
  if (!IFACE_RE.test(v) || v === '.' || v === '..') {
    throw new InvalidNetworkSelectionError(
      `network selection "${whole}": interface "${v}" is not a valid name`,
    );
  }
}

/** Parses one `ns/name@iface` item. */
function parseShortForm(
  item: string,
  podNamespace: string,
): { name: string; namespace: string; iface?: string } {
  const parts = item.split('/');
  if (parts.length > 2)
    throw new InvalidNetworkSelectionError(`network selection "${item}": more than one "/"`);
  const [namespace, rest] = parts.length === 2 ? [parts[0]!, parts[1]!] : [podNamespace, parts[0]!];
  const at = rest.split('@');
  if (at.length > 2) throw new InvalidNetworkSelectionError(`network selection "${item}": more than one "@"`);
  const name = at[0]!;
  checkName('namespace', namespace, item);
  checkName('name', name, item);
  if (at.length === 2) checkIface(at[1]!, item);
  return { name, namespace, ...(at.length === 2 ? { iface: at[1]! } : {}) };
}

const stringArray = (v: unknown, field: string, whole: string): string[] => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new InvalidNetworkSelectionError(
      `network selection ${whole}: "${field}" must be a list of strings`,
    );
  }
  return v as string[];
};

/** Parses `k8s.v1.cni.cncf.io/networks`. An empty or absent value selects nothing. */
export function parseNetworkSelections(value: string | undefined, podNamespace: string): NetworkSelection[] {
  const text = (value ?? '').trim();
  if (text === '') return [];
  const out: NetworkSelection[] = [];
  if (text.startsWith('[') || text.startsWith('{')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new InvalidNetworkSelectionError(
        `${NETWORKS_ANNOTATION} is not valid JSON: ${(err as Error).message}`,
      );
    }
    if (!Array.isArray(raw))
      throw new InvalidNetworkSelectionError(`${NETWORKS_ANNOTATION}: JSON must be a list`);
    raw.forEach((el, i) => {
      const whole = `#${i}`;
      if (!isJsonObject(el))
        throw new InvalidNetworkSelectionError(`network selection ${whole} is not an object`);
      const {
        name,
        namespace,
        interface: iface,
        ips,
        mac,
        ['default-route']: defaultRoute,
        ['ipam-claim-reference']: claim,
        ...extra
      } = el;
      if (typeof name !== 'string' || name === '')
        throw new InvalidNetworkSelectionError(`network selection ${whole} has no "name"`);
      // Multus also accepts "ns/name" in the name field of a JSON element.
      const short = parseShortForm(
        name,
        typeof namespace === 'string' && namespace ? namespace : podNamespace,
      );
      if (namespace !== undefined && (typeof namespace !== 'string' || namespace === ''))
        throw new InvalidNetworkSelectionError(
          `network selection ${whole}: "namespace" must be a non-empty string`,
        );
      if (iface !== undefined && typeof iface !== 'string')
        throw new InvalidNetworkSelectionError(`network selection ${whole}: "interface" must be a string`);
      if (typeof iface === 'string' && iface !== '') checkIface(iface, whole);
      if (mac !== undefined && (typeof mac !== 'string' || !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)))
        throw new InvalidNetworkSelectionError(
          `network selection ${whole}: "mac" ${JSON.stringify(mac)} is not a MAC address`,
        );
      if (claim !== undefined && typeof claim !== 'string')
        throw new InvalidNetworkSelectionError(
          `network selection ${whole}: "ipam-claim-reference" must be a string`,
        );
      const explicitIface = (typeof iface === 'string' && iface) || short.iface;
      out.push({
        name: short.name,
        namespace: short.namespace,
        interface: explicitIface || `net${i + 1}`,
        interfaceRequested: Boolean(explicitIface),
        ...(ips !== undefined ? { ips: stringArray(ips, 'ips', whole) } : {}),
        ...(typeof mac === 'string' ? { mac: mac.toLowerCase() } : {}),
        ...(defaultRoute !== undefined
          ? { defaultRoute: stringArray(defaultRoute, 'default-route', whole) }
          : {}),
        ...(typeof claim === 'string' ? { ipamClaimReference: claim } : {}),
        ...(Object.keys(extra).length > 0 ? { extra } : {}),
      });
    });
  } else {
    text.split(',').forEach((item, i) => {
      const t = item.trim();
      if (t === '')
        throw new InvalidNetworkSelectionError(`${NETWORKS_ANNOTATION}: empty entry in "${text}"`);
      const s = parseShortForm(t, podNamespace);
      out.push({
        name: s.name,
        namespace: s.namespace,
        interface: s.iface ?? `net${i + 1}`,
        interfaceRequested: s.iface !== undefined,
      });
    });
  }
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.interface)) {
      throw new InvalidNetworkSelectionError(
        `${NETWORKS_ANNOTATION}: interface ${s.interface} is used twice`,
      );
    }
    seen.add(s.interface);
  }
  return out;
}

/** Parses `v1.multus-cni.io/default-network` (interface `eth0`); undefined when absent. */
export function parseDefaultNetwork(
  value: string | undefined,
  podNamespace: string,
): NetworkSelection | undefined {
  const text = (value ?? '').trim();
  if (text === '') return undefined;
  if (text.startsWith('[') || text.startsWith('{')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new InvalidNetworkSelectionError(
        `${DEFAULT_NETWORK_ANNOTATION} is not valid JSON: ${(err as Error).message}`,
      );
    }
    const list = Array.isArray(raw) ? raw : [raw];
    if (list.length !== 1)
      throw new InvalidNetworkSelectionError(`${DEFAULT_NETWORK_ANNOTATION} must name one network`);
    const [sel] = parseNetworkSelections(JSON.stringify(list), podNamespace);
    return { ...sel!, interface: DEFAULT_INTERFACE, interfaceRequested: false };
  }
  if (text.includes(','))
    throw new InvalidNetworkSelectionError(`${DEFAULT_NETWORK_ANNOTATION} must name one network`);
  const s = parseShortForm(text, podNamespace);
  return { name: s.name, namespace: s.namespace, interface: DEFAULT_INTERFACE, interfaceRequested: false };
}

/** Both annotations of a pod: the replacing default network (if any) first, then the attachments. */
export function podNetworkSelections(
  annotations: Readonly<Record<string, string>> | undefined,
  podNamespace: string,
): NetworkSelection[] {
  const def = parseDefaultNetwork(annotations?.[DEFAULT_NETWORK_ANNOTATION], podNamespace);
  const list = parseNetworkSelections(annotations?.[NETWORKS_ANNOTATION], podNamespace);
  if (def && list.some((s) => s.interface === DEFAULT_INTERFACE)) {
    throw new InvalidNetworkSelectionError(`${NETWORKS_ANNOTATION}: eth0 is taken by the default network`);
  }
  return def ? [def, ...list] : list;
}
