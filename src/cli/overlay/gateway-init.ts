/** `ovn-k8s-overlay gateway-init` (see src/node/gateway-init.ts). */
import type { Command } from 'commander';
import { gatewayInit } from '../../node/gateway-init.js';
import {
  addCommonNodeFlags,
  k8sSettings,
  runNodeCommand,
  splitList,
  type CommonNodeFlags,
} from './node-flags.js';

interface GatewayInitFlags extends CommonNodeFlags {
  physicalInterface?: string;
  bridgeInterface?: string;
  physicalIp: string;
  defaultGw?: string;
  rampoutIpSubnets?: string;
  physnet: string;
}

export function register(program: Command): void {
  addCommonNodeFlags(
    program
      .command('gateway-init')
      .description('make this node a gateway: bridge mappings and l3-gateway-config'),
  )
    .option('--physical-interface <if>', 'NIC to move into bridge br<if>')
    .option('--bridge-interface <br>', 'existing OVS bridge that holds the NIC')
    .requiredOption('--physical-ip <ip/len>', "the gateway's address on the external network")
    .option('--default-gw <ip>', "next hop on the external network (default: the bridge's default route)")
    .option(
      '--rampout-ip-subnets <cidrs>',
      'source subnets to route out through this gateway (comma separated)',
    )
    .option('--physnet <name>', 'physical network name in ovn-bridge-mappings', 'physnet')
    .action(async (f: GatewayInitFlags) =>
      runNodeCommand('gateway-init', async () => {
        const r = await gatewayInit({
          nodeName: f.nodeName,
          clusterSubnets: splitList(f.clusterIpSubnet),
          physicalIp: f.physicalIp,
          ovsAddress: f.ovsAddress,
          physnet: f.physnet,
          k8s: k8sSettings(f),
          rampoutSubnets: splitList(f.rampoutIpSubnets),
          ...(f.physicalInterface ? { physicalInterface: f.physicalInterface } : {}),
          ...(f.bridgeInterface ? { bridgeInterface: f.bridgeInterface } : {}),
          ...(f.defaultGw ? { defaultGw: f.defaultGw } : {}),
          ...(f.verbose ? { log: (l: string) => process.stderr.write(`gateway-init: ${l}\n`) } : {}),
        });
        process.stdout.write(`${JSON.stringify(r)}\n`);
      }),
    );
}
