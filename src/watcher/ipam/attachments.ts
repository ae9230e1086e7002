/**
 * Which of a pod's interfaces the central IPAM serves, and how: the pod's network selection
 * (Multus annotations) resolved against NADs. Interfaces on ovn-kubernetes networks, or with an
 * IPAM that is not ours (host-local, whereabouts...), are left out.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  attachmentIpamOf,
  kubeOvnKey,
  parseCniConfig,
  podNetworkSelections,
  selectionKey,
  type NetworkSelection,
} from '../../multinet/index.js';
import type { NetworkAttachmentDefinition } from '../../k8s/resources.js';
import type { StatefulSetRef } from '../../ipam/index.js';

export type ServedBy =
  | { model: 'kube-ovn'; provider: string; ovn: boolean }
  | { model: 'spiderpool'; defaultIpv4Pools: string[]; defaultIpv6Pools: string[] };

export interface Attachment {
  selection: NetworkSelection;
  /** `<ns>/<nad>` */
  network: string;
  servedBy: ServedBy;
  /** The interface part of the allocation key: the provider (Kube-OVN) or the interface name. */
  keyPart: string;
}

/** A pod interface that cannot be served yet or at all, with the reason (for an Event). */
export interface AttachmentProblem {
  network: string;
  interface: string;
  message: string;
  /** True when waiting may fix it (the NAD does not exist yet). */
  transient: boolean;
}

export interface ResolveContext {
  nad(namespace: string, name: string): NetworkAttachmentDefinition | undefined;
  /** Whether a Kube-OVN Subnet with this provider exists (decides the `auto` model). */
  hasSubnetForProvider(provider: string): boolean;
}

/** Resolves the pod's selections. Throws InvalidNetworkSelectionError for malformed annotations. */
export function podAttachments(
  pod: V1Pod,
  ctx: ResolveContext,
): { attachments: Attachment[]; problems: AttachmentProblem[] } {
  const ns = pod.metadata?.namespace ?? 'default';
  const annotations = pod.metadata?.annotations ?? {};
  const selections = podNetworkSelections(annotations, ns);
  const attachments: Attachment[] = [];
  const problems: AttachmentProblem[] = [];
  for (const sel of selections) {
    const network = selectionKey(sel);
    const nad = ctx.nad(sel.namespace, sel.name);
    if (!nad) {
      problems.push({
        network,
        interface: sel.interface,
        message: `NetworkAttachmentDefinition ${network} not found`,
        transient: true,
      });
      continue;
    }
    let ipam;
    try {
      ipam = attachmentIpamOf(parseCniConfig(nad.spec?.config, network), sel.namespace, sel.name);
    } catch (err) {
      problems.push({ network, interface: sel.interface, message: (err as Error).message, transient: false });
      continue;
    }
    let servedBy: ServedBy | undefined;
    if (ipam.model === 'kube-ovn') servedBy = ipam;
    else if (ipam.model === 'spiderpool') servedBy = ipam;
    else if (ipam.model === 'auto') {
      const p = ipam.provider;
      const asksKubeOvn = ['logical_switch', 'ip_address', 'ip_pool'].some(
        (f) => annotations[kubeOvnKey(p, f as 'ip_address')] !== undefined,
      );
      servedBy =
        asksKubeOvn || ctx.hasSubnetForProvider(p)
          ? { model: 'kube-ovn', provider: p, ovn: false }
          : {
              model: 'spiderpool',
              defaultIpv4Pools: ipam.defaultIpv4Pools,
              defaultIpv6Pools: ipam.defaultIpv6Pools,
            };
    }
    if (!servedBy) continue;
    attachments.push({
      selection: sel,
      network,
      servedBy,
      keyPart: servedBy.model === 'kube-ovn' ? servedBy.provider : sel.interface,
    });
  }
  return { attachments, problems };
}

/** The StatefulSet and ordinal of a pod it owns (`<sts>-<ordinal>`), if any. */
export function statefulSetOf(pod: V1Pod): { name: string; uid?: string; ordinal: number } | undefined {
  const ref = pod.metadata?.ownerReferences?.find((o) => o.kind === 'StatefulSet' && o.controller !== false);
  const podName = pod.metadata?.name ?? '';
  if (!ref || !podName.startsWith(`${ref.name}-`)) return undefined;
  const suffix = podName.slice(ref.name.length + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(suffix)) return undefined;
  return { name: ref.name, ...(ref.uid ? { uid: ref.uid } : {}), ordinal: Number(suffix) };
}

/** The allocation owner of one interface: the StatefulSet ordinal, else `<pod uid>/<keyPart>`. */
export function ownerFor(pod: V1Pod, keyPart: string): string | StatefulSetRef {
  const sts = statefulSetOf(pod);
  if (sts) {
    return {
      namespace: pod.metadata?.namespace ?? 'default',
      name: sts.name,
      ordinal: sts.ordinal,
      interface: keyPart,
    };
  }
  return `${pod.metadata?.uid ?? ''}/${keyPart}`;
}

/** True for pods that hold no addresses any more (finished) or never get any (host network). */
export function podIsDone(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
