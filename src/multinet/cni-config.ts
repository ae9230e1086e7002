/**
 * A NetworkAttachmentDefinition's `spec.config`: a CNI network config (one plugin) or a config
 * list (`plugins`). What the central IPAM needs from it: the main plugin type, its `ipam` section,
 * and Kube-OVN's `provider` (at top level for `"type":"kube-ovn"` attachments, inside `ipam`
 * for other CNIs using Kube-OVN IPAM).
 */
import { InvalidNetworkConfigError } from './errors.js';

/** The IPAM plugin name our CNI IPAM plugin answers to. */
export const OVN_K8S_IPAM_TYPE = 'ovn-k8s-ipam';
/** The CNI type of ovn-kubernetes secondary networks. */
export const OVN_OVERLAY_CNI_TYPE = 'ovn-k8s-cni-overlay';
/** Kube-OVN's CNI/IPAM type; its configs from the Kube-OVN docs work unchanged with our IPAM. */
export const KUBE_OVN_TYPE = 'kube-ovn';
/** Spiderpool's IPAM type. */
export const SPIDERPOOL_IPAM_TYPE = 'spiderpool';

export type JsonObject = Record<string, unknown>;

export const isJsonObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export interface CniPluginConfig extends JsonObject {
  type: string;
}

export interface ParsedCniConfig {
  /** The `name` of the config or config list, if any. */
  name?: string;
  cniVersion?: string;
  /** The first plugin of a list (the one that creates the interface), or the single plugin. */
  main: CniPluginConfig;
  plugins: CniPluginConfig[];
  /** The main plugin's `ipam` section, if any. */
  ipam?: JsonObject & { type?: string };
  /** The whole parsed document. */
  raw: JsonObject;
}

/** Parses `spec.config` text. `where` names the NAD in errors ("default/macvlan"). */
export function parseCniConfig(text: string | undefined, where: string): ParsedCniConfig {
  if (text === undefined || text.trim() === '') {
    throw new InvalidNetworkConfigError(
      `NetworkAttachmentDefinition ${where}: spec.config is empty; the central IPAM needs the config in the NAD`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidNetworkConfigError(
      `NetworkAttachmentDefinition ${where}: spec.config is not JSON: ${(err as Error).message}`,
    );
  }
  if (!isJsonObject(raw))
    throw new InvalidNetworkConfigError(
      `NetworkAttachmentDefinition ${where}: spec.config is not a JSON object`,
    );
  let plugins: unknown[];
  if (raw.plugins !== undefined) {
    if (!Array.isArray(raw.plugins) || raw.plugins.length === 0)
      throw new InvalidNetworkConfigError(
        `NetworkAttachmentDefinition ${where}: plugins must be a non-empty list`,
      );
    plugins = raw.plugins;
  } else {
    plugins = [raw];
  }
  const checked = plugins.map((p, i) => {
    if (!isJsonObject(p) || typeof p.type !== 'string' || p.type === '') {
      throw new InvalidNetworkConfigError(
        `NetworkAttachmentDefinition ${where}: plugin ${i} has no "type" string`,
      );
    }
    return p as CniPluginConfig;
  });
  const main = checked[0]!;
  let ipam: ParsedCniConfig['ipam'];
  if (main.ipam !== undefined) {
    if (!isJsonObject(main.ipam))
      throw new InvalidNetworkConfigError(`NetworkAttachmentDefinition ${where}: ipam must be an object`);
    ipam = main.ipam as JsonObject & { type?: string };
  }
  return {
    ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
    ...(typeof raw.cniVersion === 'string' ? { cniVersion: raw.cniVersion } : {}),
    main,
    plugins: checked,
    ...(ipam ? { ipam } : {}),
    raw,
  };
}

/** Which IPAM model serves an attachment. */
export type AttachmentIpam =
  /** Kube-OVN Subnets chosen by provider (or the `logical_switch` annotation). */
  | { model: 'kube-ovn'; provider: string; ovn: boolean }
  /** Spiderpool SpiderIPPools chosen by annotations, NAD defaults and pool affinity. */
  | {
      model: 'spiderpool';
      defaultIpv4Pools: string[];
      defaultIpv6Pools: string[];
    }
  /** Our own ipam type with neither a provider nor pools named: decided when the pools are known. */
  | { model: 'auto'; provider: string; defaultIpv4Pools: string[]; defaultIpv6Pools: string[] }
  /** An ovn-kubernetes secondary network: the watcher's network controller owns its addresses. */
  | { model: 'ovn-network' }
  /** Someone else's IPAM (host-local, whereabouts, dhcp...) or none. */
  | { model: 'none' };

const stringList = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.filter((x): x is string => typeof x === 'string' && x !== '')
    : typeof v === 'string' && v
      ? [v]
      : [];

/**
 * Decides which central IPAM model serves attachments of the NAD `namespace/name` with this config.
 * Kube-OVN's default provider is `<nad>.<ns>` (`<nad>.<ns>.ovn` for its own CNI type).
 */
export function attachmentIpamOf(config: ParsedCniConfig, namespace: string, name: string): AttachmentIpam {
  const main = config.main;
  if (main.type === OVN_OVERLAY_CNI_TYPE) return { model: 'ovn-network' };
  if (main.type === KUBE_OVN_TYPE) {
    const provider =
      typeof main.provider === 'string' && main.provider ? main.provider : `${name}.${namespace}.ovn`;
    return { model: 'kube-ovn', provider, ovn: provider.endsWith('.ovn') };
  }
  const ipam = config.ipam;
  if (!ipam || typeof ipam.type !== 'string') return { model: 'none' };
  const provider = typeof ipam.provider === 'string' && ipam.provider ? ipam.provider : undefined;
  if (ipam.type === KUBE_OVN_TYPE) {
    const p = provider ?? `${name}.${namespace}`;
    return { model: 'kube-ovn', provider: p, ovn: p.endsWith('.ovn') };
  }
  const v4 = [
    ...stringList(ipam.default_ipv4_ippool),
    ...stringList((ipam.ippools as JsonObject | undefined)?.ipv4),
  ];
  const v6 = [
    ...stringList(ipam.default_ipv6_ippool),
    ...stringList((ipam.ippools as JsonObject | undefined)?.ipv6),
  ];
  if (ipam.type === SPIDERPOOL_IPAM_TYPE)
    return { model: 'spiderpool', defaultIpv4Pools: v4, defaultIpv6Pools: v6 };
  if (ipam.type === OVN_K8S_IPAM_TYPE) {
    // An explicit model (SpiderMultusConfig-generated NADs say "spiderpool") wins.
    if (ipam.model === 'spiderpool')
      return { model: 'spiderpool', defaultIpv4Pools: v4, defaultIpv6Pools: v6 };
    if (ipam.model === 'kube-ovn') {
      const p = provider ?? `${name}.${namespace}`;
      return { model: 'kube-ovn', provider: p, ovn: p.endsWith('.ovn') };
    }
    if (provider) return { model: 'kube-ovn', provider, ovn: provider.endsWith('.ovn') };
    if (v4.length > 0 || v6.length > 0)
      return { model: 'spiderpool', defaultIpv4Pools: v4, defaultIpv6Pools: v6 };
    return { model: 'auto', provider: `${name}.${namespace}`, defaultIpv4Pools: v4, defaultIpv6Pools: v6 };
  }
  return { model: 'none' };
}
