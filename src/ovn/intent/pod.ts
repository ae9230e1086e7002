/**
 * A pod's logical switch port `<ns>_<pod>` on its node's switch, with static addresses (IPAM is
 * ours, never northd's `dynamic`) and port security on the same MAC and IPs.
 */
import { NAMESPACE_KEY, POD_MARK_KEY, nodeSwitch, podOwner, podPort } from '../names.js';
import { hostIp, ipFamily, ipOf, macFromIp, parseCidr } from './addr.js';
import { ownedExternalIds, parent, type DesiredRow } from './desired.js';
import type { PodInfo } from './inputs.js';

export class PodIntentError extends Error {
  override name = 'PodIntentError';
}

export const podMac = (pod: PodInfo): string => {
  if (pod.mac) return pod.mac.toLowerCase();
  if (pod.ips.length === 0)
    throw new PodIntentError(`pod ${pod.namespace}/${pod.name} has neither a MAC nor an IP`);
  return macFromIp(pod.ips[0]!);
};

/** The one `addresses`/`port_security` entry: "MAC IP [IP6]". */
export const podAddress = (pod: PodInfo): string => [podMac(pod), ...pod.ips.map(ipOf)].join(' ');

export function podRows(pod: PodInfo): DesiredRow[] {
  const name = podPort(pod.namespace, pod.name);
  const address = podAddress(pod);
  const options: Record<string, string> = { 'requested-chassis': pod.node };
  if (pod.uid) options['iface-id-ver'] = pod.uid;
  return [
    {
      table: 'Logical_Switch_Port',
      key: name,
      columns: {
        name,
        addresses: [address],
        port_security: [address],
        options,
        external_ids: ownedExternalIds('Logical_Switch_Port', name, podOwner(pod.namespace, pod.name), {
          [NAMESPACE_KEY]: pod.namespace,
          [POD_MARK_KEY]: 'true',
        }),
      },
      parents: [parent('Logical_Switch', nodeSwitch(pod.node), 'ports')],
    },
  ];
}

/** What the pod's network annotations carry (k8s.ovn.org/pod-networks and the original `ovn`). */
export interface PodNetwork {
  /** `ip/len` with the node subnet's length */
  ipAddresses: string[];
  macAddress: string;
  /** the node switch's router address (.1) of each family the pod has an IP in */
  gatewayIps: string[];
}

export function podNetwork(pod: PodInfo, nodeSubnets: readonly string[]): PodNetwork {
  const families = new Set(pod.ips.map(ipFamily));
  return {
    ipAddresses: [...pod.ips],
    macAddress: podMac(pod),
    gatewayIps: nodeSubnets.filter((s) => families.has(parseCidr(s).family)).map((s) => hostIp(s, 1)),
  };
}
