/**
 * master-init: the cluster router `ovn_cluster_router`, the join switch, the load-balancer groups
 * and the master's node switch with its router and management ports, in one transaction.
 * Idempotent: on a database that already has all of it, nothing is sent.
 *
 * The master's subnet is `--master-switch-subnet` when given, else the one its switch already has,
 * else the first host subnet of the cluster subnet that no node switch uses.
 */
import { HostSubnetAllocator } from '../ipam/index.js';
import { clusterRows, nodeRows } from '../ovn/intent/index.js';
import { CLUSTER_OWNER, nodeOwner, ownerOf } from '../ovn/names.js';
import { cacheNbView, reconcile, toTxn, type NbView } from '../ovn/reconcile/index.js';
import type { OvsdbDatabase } from '../ovsdb/database.js';
import { OvsdbTransactionError } from '../ovsdb/txn.js';
import { partialOwnerView } from './nb-view.js';
import { switchSubnets } from './node-controller.js';
import { clusterConfigOf } from './watcher.js';

export interface MasterInitOptions {
  /** e.g. 192.168.0.0/16 (host subnets /24) or 10.128.0.0/14/23 */
  clusterIpSubnet: string;
  nodeName: string;
  masterSwitchSubnet?: string;
  joinSubnets?: string[];
}

export interface MasterInitResult {
  node: string;
  subnets: string[];
  /** operations sent (0: everything was in place) */
  operations: number;
}

export class MasterInitError extends Error {
  override name = 'MasterInitError';
}

/** Host subnets already used by node switches, so a new master subnet does not collide. */
function usedSubnets(view: NbView, except: string): { owner: string; subnets: string[] }[] {
  const out: { owner: string; subnets: string[] }[] = [];
  for (const sw of view.rows('Logical_Switch')) {
    const owner = ownerOf(sw.external_ids);
    if (owner?.type !== 'Node' || owner.id === except || typeof sw.name !== 'string') continue;
    const subnets = switchSubnets(view, sw.name);
    if (subnets.length > 0) out.push({ owner: owner.id, subnets });
  }
  return out;
}

export async function masterInit(db: OvsdbDatabase, opts: MasterInitOptions): Promise<MasterInitResult> {
  await db.ready();
  // k8s events carry lower-case node names (the original lower-cased it too)
  const node = opts.nodeName.toLowerCase();
  const config = clusterConfigOf([opts.clusterIpSubnet], opts.joinSubnets);
  const base = cacheNbView(db.cache);
  let subnets: string[];
  if (opts.masterSwitchSubnet) subnets = [opts.masterSwitchSubnet];
  else {
    subnets = switchSubnets(base, node);
    if (subnets.length === 0) {
      const alloc = new HostSubnetAllocator([opts.clusterIpSubnet]);
      alloc.rebuild(usedSubnets(base, node));
      subnets = alloc.allocate(node);
    }
  }
  const rows = [...clusterRows(config), ...nodeRows({ name: node, subnets })];
  // the node's gateway rows (gateway-init) are not master-init's business: leave them alone
  const view = partialOwnerView(base, rows);
  const result = reconcile(view, rows, { owners: [CLUSTER_OWNER, nodeOwner(node)] });
  if (result.skipped.length > 0) {
    const s = result.skipped[0]!;
    throw new MasterInitError(`cannot create ${s.table} ${s.key}: ${s.reason}`);
  }
  if (result.operations.length > 0) {
    const txn = await db.transact(toTxn(db.schema, result.operations));
    if (!txn.ok) throw new OvsdbTransactionError(txn);
  }
  return { node, subnets, operations: result.operations.length };
}
