/**
 * The central IPAM for other CNIs, run inside the watcher process: `new IpamController({ kubeConfig,
 * factory, logger }).start()` once, `stop()` on shutdown.
 */
export { IpamController, AttachmentNotReadyError } from './controller.js';
export type { IpamControllerOptions, IpamEventSink, IpamLogger } from './controller.js';
export { podAttachments, statefulSetOf, ownerFor, type Attachment, type ServedBy } from './attachments.js';
export { PoolRegistry, poolId, type PoolEntry, type PoolKind } from './pool-registry.js';
export {
  IP_RESERVATIONS,
  SPIDER_IPPOOLS,
  SPIDER_MULTUS_CONFIGS,
  STATEFULSETS,
  SUBNETS,
  type IpReservation,
  type IpReservationSpec,
  type KubeOvnSubnet,
  type SpiderIpPool,
  type SpiderMultusConfig,
} from './resources.js';
