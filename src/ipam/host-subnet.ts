/**
 * The well-known addresses of a node's host subnet in ovn-kubernetes: .1 is the cluster router port
 * `rtos-<node>` (the pods' gateway), .2 the management port `k8s-<node>`; pods get the rest.
 */
import { cidrContains, formatIp, nthAddress, parseCidr, tryParseIp } from './cidr.js';
import { IpAllocator, type IpAllocatorOptions } from './ip-allocator.js';
import { MultiFamilyAllocator } from './multi-family.js';

export const hostSubnetGatewayIp = (subnet: string): string => formatIp(nthAddress(parseCidr(subnet), 1));

export const hostSubnetManagementIp = (subnet: string): string => formatIp(nthAddress(parseCidr(subnet), 2));

export type NodeAllocatorOptions = Omit<IpAllocatorOptions, 'subnet' | 'reserved' | 'ranges' | 'name'> & {
  /** Extra addresses never handed out besides gateway and management port (any family). */
  reserved?: readonly string[];
};

/** Pod address allocator for a node: one IpAllocator per host subnet (one per family). */
export function createNodeIpAllocator(
  node: string,
  subnets: readonly string[],
  options: NodeAllocatorOptions = {},
): MultiFamilyAllocator {
  return new MultiFamilyAllocator(
    subnets.map((subnet) => {
      const cidr = parseCidr(subnet);
      const extra = (options.reserved ?? []).filter((ip) => {
        const addr = tryParseIp(ip);
        return addr !== null && cidrContains(cidr, addr);
      });
      return new IpAllocator({
        ...options,
        subnet: cidr,
        name: `node ${node} subnet ${subnet}`,
        reserved: [hostSubnetGatewayIp(subnet), hostSubnetManagementIp(subnet), ...extra],
      });
    }),
  );
}
