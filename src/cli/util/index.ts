import type { Command } from 'commander';

/**
 * Every `ovn-k8s-util` subcommand module exports `register(program)`; list them here.
 * (Kept as one explicit list so the command surface is visible in one place.)
 */
export function registerUtilCommands(_program: Command): void {}
