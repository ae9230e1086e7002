/** `ovn-k8s-overlay minion-init` (see src/node/minion-init.ts). */
import { Option, type Command } from 'commander';
import { NodeConfigError } from '../../node/errors.js';
import { minionInit, type DatapathType, type EncapType } from '../../node/minion-init.js';
import {
  addCommonNodeFlags,
  k8sSettings,
  runNodeCommand,
  splitList,
  type CommonNodeFlags,
} from './node-flags.js';

interface MinionInitFlags extends CommonNodeFlags {
  minionSwitchSubnet?: string;
  encapIp?: string;
  encapType: EncapType;
  sbAddress?: string;
  nbAddress?: string;
  datapathType?: DatapathType;
  cniConfDir?: string;
  cniBinDir?: string;
  systemIdFile?: string;
  mtu: string;
  subnetTimeout: string;
}

export function register(program: Command): void {
  addCommonNodeFlags(
    program
      .command('minion-init')
      .description('prepare this node: OVS external_ids, br-int, management port, CNI'),
  )
    .option(
      '--minion-switch-subnet <cidr>',
      "this node's subnet (default: the Node's k8s.ovn.org/node-subnets)",
    )
    .option('--encap-ip <ip>', "this node's tunnel endpoint address")
    .addOption(
      new Option('--encap-type <type>', 'tunnel type').choices(['geneve', 'vxlan', 'stt']).default('geneve'),
    )
    .option('--sb-address <remote>', 'OVN southbound database (becomes external_ids:ovn-remote)')
    .option('--nb-address <remote>', 'OVN northbound database (becomes external_ids:ovn-nb)')
    .addOption(new Option('--datapath-type <type>', 'datapath of br-int').choices(['system', 'netdev']))
    .option('--cni-conf-dir <dir>', 'where to write the CNI network config (e.g. /etc/cni/net.d)')
    .option('--cni-bin-dir <dir>', 'where to install the CNI plugin (e.g. /opt/cni/bin)')
    .option(
      '--system-id-file <file>',
      'persist the generated system-id here (e.g. /etc/openvswitch/system-id.conf)',
    )
    .option('--mtu <n>', 'MTU of the management port and pods', '1400')
    .option('--subnet-timeout <ms>', 'how long to wait for the node subnet annotation', '30000')
    .action(async (f: MinionInitFlags) =>
      runNodeCommand('minion-init', async () => {
        const mtu = Number(f.mtu);
        const subnetTimeoutMs = Number(f.subnetTimeout);
        if (!Number.isInteger(mtu) || mtu < 576)
          throw new NodeConfigError(`--mtu ${f.mtu} is not a valid MTU`);
        if (!Number.isFinite(subnetTimeoutMs) || subnetTimeoutMs < 0)
          throw new NodeConfigError(`--subnet-timeout ${f.subnetTimeout} is not a number of milliseconds`);
        const r = await minionInit({
          nodeName: f.nodeName,
          clusterSubnets: splitList(f.clusterIpSubnet),
          ovsAddress: f.ovsAddress,
          encapType: f.encapType,
          k8s: k8sSettings(f),
          mtu,
          subnetTimeoutMs,
          ...(f.minionSwitchSubnet ? { nodeSubnet: f.minionSwitchSubnet } : {}),
          ...(f.encapIp ? { encapIp: f.encapIp } : {}),
          ...(f.sbAddress ? { sbAddress: f.sbAddress } : {}),
          ...(f.nbAddress ? { nbAddress: f.nbAddress } : {}),
          ...(f.datapathType ? { datapathType: f.datapathType } : {}),
          ...(f.cniConfDir ? { cniConfDir: f.cniConfDir } : {}),
          ...(f.cniBinDir ? { cniBinDir: f.cniBinDir } : {}),
          ...(f.systemIdFile ? { systemIdFile: f.systemIdFile } : {}),
          ...(f.verbose ? { log: (l: string) => process.stderr.write(`minion-init: ${l}\n`) } : {}),
        });
        process.stdout.write(
          `${JSON.stringify({ systemId: r.systemId, nodeSubnets: r.nodeSubnets, changedExternalIds: r.changedExternalIds, ovsWrites: r.ovsWrites, hostChanges: r.hostChanges })}\n`,
        );
      }),
    );
}
