/**
 * Which secondary OVN networks the NetworkAttachmentDefinitions define, computed from the whole NAD
 * store every time (there are few NADs, and a level-triggered answer cannot drift).
 *
 * A NAD whose config `type` is `ovn-k8s-cni-overlay` defines (or joins) the network its config
 * names. Networks are not namespaced, so every NAD naming one network must carry the same config;
 * the oldest NAD's config wins and a disagreeing later NAD is reported and left out. A malformed
 * config is reported and left out too: neither disturbs any other network. NADs of other types are
 * not ours (the central IPAM controller serves some of them) and are not looked at.
 */
import type { NetworkAttachmentDefinition } from '../k8s/resources.js';
import { objectKey } from '../k8s/resources.js';
import {
  InvalidNetworkConfigError,
  isOvnNetworkConfig,
  parseOvnNetworkConfig,
  sameNetworkConfig,
  type OvnNetworkConfig,
} from '../multinet/index.js';
import { checkNetworkName, SecondaryIntentError } from '../ovn/intent/secondary.js';
import { compareCreation } from '../k8s/order.js';

export type NadProblemReason = 'InvalidNetworkConfig' | 'NetworkConfigConflict';

export interface NadProblem {
  nad: NetworkAttachmentDefinition;
  reason: NadProblemReason;
  message: string;
}

export interface DefinedNetwork {
  config: OvnNetworkConfig;
  /** `<ns>/<nad>` of every NAD of the network, oldest first */
  nads: string[];
}

export interface ResolvedNetworks {
  /** `<ns>/<nad>` -> its network's config (the winning NAD's, with this NAD's netAttachDefName) */
  byNad: Map<string, OvnNetworkConfig>;
  byNetwork: Map<string, DefinedNetwork>;
  problems: NadProblem[];
}

const byAge = (a: NetworkAttachmentDefinition, b: NetworkAttachmentDefinition): number =>
  compareCreation(a, b) || objectKey(a).localeCompare(objectKey(b));

/** The networks the NADs define, and what is wrong with the NADs that define none. */
export function resolveNetworks(nads: readonly NetworkAttachmentDefinition[]): ResolvedNetworks {
  const out: ResolvedNetworks = { byNad: new Map(), byNetwork: new Map(), problems: [] };
  for (const nad of [...nads].sort(byAge)) {
    const text = nad.spec?.config;
    if (!isOvnNetworkConfig(text)) continue;
    const key = objectKey(nad);
    let config: OvnNetworkConfig;
    try {
      config = parseOvnNetworkConfig(text, nad.metadata?.namespace ?? '', nad.metadata?.name ?? '');
      checkNetworkName(config.name);
    } catch (err) {
      if (!(err instanceof InvalidNetworkConfigError) && !(err instanceof SecondaryIntentError)) throw err;
      out.problems.push({ nad, reason: 'InvalidNetworkConfig', message: err.message });
      continue;
    }
    const known = out.byNetwork.get(config.name);
    if (known && !sameNetworkConfig(known.config, config)) {
      out.problems.push({
        nad,
        reason: 'NetworkConfigConflict',
        message: `NetworkAttachmentDefinition ${key}: network ${config.name} is already defined differently by ${known.nads[0]}; NADs of one network must agree`,
      });
      continue;
    }
    if (known) known.nads.push(key);
    else out.byNetwork.set(config.name, { config, nads: [key] });
    out.byNad.set(key, config);
  }
  return out;
}
