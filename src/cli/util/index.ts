import type { Command } from 'commander';
import { register as registerK8sSim } from './k8s-sim.js';
import { register as registerConfig } from './config.js';
import { register as registerCtl } from './ctl.js';
import { register as registerTopology } from './topology.js';
import { register as registerNicsToBridge } from './nics-to-bridge.js';
import { register as registerOvsdbClient } from './ovsdb-client.js';
import { register as registerSandbox } from './sandbox.js';
import { register as registerDemo } from './demo.js';

/**
 * Every `ovn-k8s-util` subcommand module exports `register(program)`; list them here.
 * (Kept as one explicit list so the command surface is visible in one place.)
 */
export function registerUtilCommands(_program: Command): void {
  registerK8sSim(_program);
  registerConfig(_program);
  registerCtl(_program);
  registerTopology(_program);
  registerNicsToBridge(_program);
  registerOvsdbClient(_program);
  registerSandbox(_program);
  registerDemo(_program);
}
