/**
 * Names and owners of the OVN objects of secondary networks (ovn-kubernetes multi-homing).
 *
 * Object names follow ovn-kubernetes (pkg/util/multi_network.go, base_network_controller.go):
 * every object carries the network's prefix (`l3-net` -> `l3.net_`), the layer3 router ports are
 * `rtos-<prefix><node>` / `stor-<prefix><node>`, and a pod's port is named after the NAD, not the
 * network: `<ns>.<nad>_<pod-ns>_<pod>`. None of them can equal a default-network name: node names
 * and namespaces cannot contain `_`, and namespaces cannot contain `.`.
 *
 * Owners: a network's shared rows are owned by `Network` with id `<name>` and a pod's attachment by
 * `PodNetwork` with id `<ns>/<pod>@<nad-ns>/<nad>`; owner types of their own, so reconciling or
 * sweeping the default network's `Cluster` and `Pod` owners never touches them.
 */
import {
  CLUSTER_ROUTER,
  ROUTER_TO_SWITCH_PREFIX,
  SWITCH_TO_ROUTER_PREFIX,
  networkPrefix,
  podPort,
  type OwnerRef,
} from '../names.js';

export type SecondaryTopology = 'layer3' | 'layer2' | 'localnet';

/** external_ids key of the network's role (ovn-k `types.NetworkRoleExternalID`). */
export const NETWORK_ROLE_KEY = 'k8s.ovn.org/role';

export const LAYER2_SWITCH = 'ovn_layer2_switch';
export const LOCALNET_SWITCH = 'ovn_localnet_switch';
export const LOCALNET_PORT = 'ovn_localnet_port';

/** `<prefix>ovn_cluster_router`: the east-west router of a layer3 network. */
export const networkRouter = (network: string): string => `${networkPrefix(network)}${CLUSTER_ROUTER}`;
/** `<prefix><node>`: a layer3 network's switch on `node`. */
export const networkNodeSwitch = (network: string, node: string): string =>
  `${networkPrefix(network)}${node}`;
/** `rtos-<prefix><node>`: the layer3 router's port to the node switch. */
export const networkRouterToSwitchPort = (network: string, node: string): string =>
  `${ROUTER_TO_SWITCH_PREFIX}${networkNodeSwitch(network, node)}`;
/** `stor-<prefix><node>`: the node switch's router-type port. */
export const networkSwitchToRouterPort = (network: string, node: string): string =>
  `${SWITCH_TO_ROUTER_PREFIX}${networkNodeSwitch(network, node)}`;
/** `<prefix>ovn_layer2_switch`: the one switch of a layer2 network. */
export const layer2Switch = (network: string): string => `${networkPrefix(network)}${LAYER2_SWITCH}`;
/** `<prefix>ovn_localnet_switch`: the switch of a localnet network. */
export const localnetSwitch = (network: string): string => `${networkPrefix(network)}${LOCALNET_SWITCH}`;
/** `<prefix>ovn_localnet_port`: its localnet port to the physical network. */
export const localnetNetworkPort = (network: string): string => `${networkPrefix(network)}${LOCALNET_PORT}`;

/** The switch a pod of `network` on `node` plugs into. */
export function networkSwitchFor(network: string, topology: SecondaryTopology, node: string): string {
  switch (topology) {
    case 'layer3':
      return networkNodeSwitch(network, node);
    case 'layer2':
      return layer2Switch(network);
    case 'localnet':
      return localnetSwitch(network);
  }
}

/**
 * A pod's port on a secondary network: the NAD's prefix + `<ns>_<pod>` (ovn-k
 * `GetSecondaryNetworkLogicalPortName`), so two NADs of one network never share a port name. The CNI
 * side sets the OVS interface's `iface-id` to this name.
 */
export const attachmentPort = (nad: string, namespace: string, pod: string): string =>
  `${networkPrefix(nad)}${podPort(namespace, pod)}`;

// ---- owners -----------------------------------------------------------------------------------

const ATTACHMENT_SEPARATOR = '@';

/** Owner of a network's shared rows (router, switches, router ports, localnet port). */
export const networkOwner = (network: string): OwnerRef => ({ type: 'Network', id: network });

/** Owner of one pod's port on one NAD: pod + NAD, so it never collides with the pod's default port. */
export const attachmentOwner = (namespace: string, pod: string, nad: string): OwnerRef => ({
  type: 'PodNetwork',
  id: `${namespace}/${pod}${ATTACHMENT_SEPARATOR}${nad}`,
});

/** The network an owner of networkOwner() stands for, else undefined. */
export function networkOfOwner(owner: OwnerRef): string | undefined {
  return owner.type === 'Network' && owner.id !== '' ? owner.id : undefined;
}

export interface AttachmentRef {
  namespace: string;
  pod: string;
  /** `<ns>/<nad>` */
  nad: string;
}

/** The pod and NAD an owner of attachmentOwner() stands for, else undefined. */
export function attachmentOfOwner(owner: OwnerRef): AttachmentRef | undefined {
  if (owner.type !== 'PodNetwork') return undefined;
  const at = owner.id.indexOf(ATTACHMENT_SEPARATOR);
  if (at < 0) return undefined;
  const [namespace, pod] = owner.id.slice(0, at).split('/');
  const nad = owner.id.slice(at + 1);
  if (!namespace || !pod || !nad) return undefined;
  return { namespace, pod, nad };
}

/** True for owners of secondary networks (their own owner types: default-network sweeps skip them). */
export const isSecondaryOwner = (owner: OwnerRef): boolean =>
  networkOfOwner(owner) !== undefined || attachmentOfOwner(owner) !== undefined;
