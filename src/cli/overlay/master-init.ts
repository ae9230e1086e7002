/**
 * `ovn-k8s-overlay master-init`: the cluster router, join switch, load-balancer groups and the
 * master's node switch (src/watcher/master-init.ts). Idempotent.
 */
import type { Command } from 'commander';
import { masterInit } from '../../watcher/master-init.js';
import { openNb, type NbFlags } from '../../watcher/nb-connect.js';

interface MasterInitFlags extends NbFlags {
  clusterIpSubnet: string;
  nodeName: string;
  masterSwitchSubnet?: string;
  nbTimeout: string;
}

export function register(program: Command): void {
  program
    .command('master-init')
    .description('create the cluster router, join switch, load-balancer groups and the master node switch')
    .requiredOption(
      '--cluster-ip-subnet <cidr>',
      'cluster subnet, optionally with host prefix (10.128.0.0/14/23)',
    )
    .requiredOption('--node-name <name>', 'the master node (as kubelet names it)')
    .option('--master-switch-subnet <cidr>', "the master node's subnet (default: the first free one)")
    .option(
      '--nb-address <remote>',
      'OVN NB database (default $OVN_NB_DB or unix:/var/run/ovn/ovnnb_db.sock)',
    )
    .option('--nb-privkey <file>', 'TLS private key for ssl: NB addresses')
    .option('--nb-cert <file>', 'TLS certificate')
    .option('--nb-cacert <file>', 'TLS CA certificate')
    .option('--nb-timeout <seconds>', 'how long to wait for the NB database', '10')
    .action(async (flags: MasterInitFlags) => {
      const timeoutMs = Number(flags.nbTimeout) * 1000;
      const db = await openNb(flags, { timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : 10_000 });
      try {
        const r = await masterInit(db, {
          clusterIpSubnet: flags.clusterIpSubnet,
          nodeName: flags.nodeName,
          ...(flags.masterSwitchSubnet ? { masterSwitchSubnet: flags.masterSwitchSubnet } : {}),
        });
        process.stdout.write(
          `master-init: node ${r.node} subnet ${r.subnets.join(',')}: ${r.operations === 0 ? 'already in place, nothing written' : `${r.operations} operations committed`}\n`,
        );
      } finally {
        await db.close();
      }
    });
}
