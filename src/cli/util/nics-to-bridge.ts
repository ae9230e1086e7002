/** `ovn-k8s-util nics-to-bridge IF...` (see src/node/nics-to-bridge.ts). */
import type { Command } from 'commander';

/**
 * The default of --ovs-address: node/ovs-config.ts's DEFAULT_OVS_ADDRESS, spelled out here because
 * that module pulls in the OVSDB client, which `--help` should not load (test/cli checks they agree).
 */
export const NICS_TO_BRIDGE_OVS_ADDRESS = 'unix:/var/run/openvswitch/db.sock';

export function register(program: Command): void {
  program
    .command('nics-to-bridge')
    .description('move each NIC into OVS bridge br<NIC>, keeping its MAC, addresses and routes')
    .argument('<interfaces...>', 'network interfaces, e.g. eth0')
    .option('--ovs-address <remote>', 'the Open_vSwitch database', NICS_TO_BRIDGE_OVS_ADDRESS)
    .option('--datapath-type <type>', "datapath of the new bridges (default: br-int's, if any)")
    .action(async (nics: string[], f: { ovsAddress: string; datapathType?: string }) => {
      const [{ NodeConfigError }, { nicsToBridge }] = await Promise.all([
        import('../../node/errors.js'),
        import('../../node/nics-to-bridge.js'),
      ]);
      try {
        const results = await nicsToBridge(nics, {
          ovsAddress: f.ovsAddress,
          ...(f.datapathType ? { datapathType: f.datapathType } : {}),
        });
        process.stdout.write(`${JSON.stringify(results)}\n`);
      } catch (err) {
        process.stderr.write(`ovn-k8s-util nics-to-bridge: ${(err as Error).message}\n`);
        process.exit(err instanceof NodeConfigError ? 2 : 1);
      }
    });
}
