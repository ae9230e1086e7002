/**
 * `ovn-k8s-util config`: prints the effective configuration (flags > environment > INI file >
 * Open_vSwitch external_ids > defaults) and where each value came from; secrets masked.
 */
import type { Command } from 'commander';
// flags.ts only knows the keys; resolving (which may connect to OVSDB) is loaded in the action
import { addConfigFlags } from '../../config/flags.js';

interface ConfigCommandFlags extends Record<string, unknown> {
  configFile?: string;
  ovsDb?: string;
  ovs?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('config')
    .description('print the effective configuration and where each value came from (secrets masked)')
    .option('--ovs-db <remote>', 'local Open_vSwitch database (default unix:/var/run/openvswitch/db.sock)')
    .option('--no-ovs', 'do not read Open_vSwitch external_ids')
    .option('--json', 'print JSON instead of a table');
  addConfigFlags(cmd);
  cmd.action(async (flags: ConfigCommandFlags) => {
    const { configFlagsFrom, describeConfig, formatConfigTable, resolveConfig } =
      await import('../../config/index.js');
    const cfg = await resolveConfig({
      flags: configFlagsFrom(flags),
      ...(flags.configFile ? { configFile: flags.configFile, configFileExplicit: true } : {}),
      ...(flags.ovsDb ? { ovsDb: flags.ovsDb } : {}),
      readOvs: flags.ovs !== false,
    });
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ configFile: cfg.configFile ?? null, values: describeConfig(cfg), warnings: cfg.warnings }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(formatConfigTable(cfg));
    }
  });
}
