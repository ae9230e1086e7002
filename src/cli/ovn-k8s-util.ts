#!/usr/bin/env node
/**
 * `ovn-k8s-util`: operator utilities. Each subcommand lives in its own module under ./util/ and
 * registers itself on the commander program; this file only wires them together.
 */
import { Command } from 'commander';
import { registerUtilCommands } from './util/index.js';

const program = new Command('ovn-k8s-util')
  .description('ovn-k8s utilities: OVSDB client, Kubernetes API simulator, sandbox, node helpers')
  .showHelpAfterError()
  .enablePositionalOptions();
registerUtilCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`ovn-k8s-util: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
