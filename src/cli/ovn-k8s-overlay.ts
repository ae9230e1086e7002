#!/usr/bin/env node
/**
 * `ovn-k8s-overlay`: cluster and node initialisation. Each subcommand lives in its own module
 * under ./overlay/ and registers itself; this file only wires them together.
 *
 * Only the module of the subcommand being run is loaded (all of them for help or an unknown
 * command): the master side pulls in the NB client and the watcher, which a node does not need.
 */
import { Command } from 'commander';

type Registrar = { register(program: Command): void };

const SUBCOMMANDS: Record<string, () => Promise<Registrar>> = {
  // ---- master side (owned by the master-init module) ----
  'master-init': () => import('./overlay/master-init.js'),
  // ---- node side ----
  'minion-init': () => import('./overlay/minion-init.js'),
  'gateway-init': () => import('./overlay/gateway-init.js'),
};

const program = new Command('ovn-k8s-overlay')
  .description('initialise the OVN overlay: master-init (cluster), minion-init and gateway-init (nodes)')
  .showHelpAfterError();

async function main(): Promise<void> {
  const requested = process.argv[2];
  const names = requested && requested in SUBCOMMANDS ? [requested] : Object.keys(SUBCOMMANDS);
  for (const name of names) (await SUBCOMMANDS[name]!()).register(program);
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  process.stderr.write(`ovn-k8s-overlay: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
