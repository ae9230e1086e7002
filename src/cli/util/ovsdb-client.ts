/**
 * `ovn-k8s-util ovsdb-client`: the commands of OVS's `ovsdb-client` that operators script
 * against (list-dbs, get-schema[-version|-cksum], list-tables, list-columns, transact, query,
 * dump, monitor, monitor-cond), printing exactly what
 * the C tool prints for the same input. Argument order follows the C tool:
 * `COMMAND [SERVER] [DATABASE] ARGS...`, options anywhere after the command.
 *
 * Errors print one line on stderr and exit 1.
 *
 * This module only registers the commands; their implementation (./ovsdb-client-commands.ts, with
 * the OVSDB client) is loaded when one of them runs, so that `--help` stays cheap.
 */
import type { Command } from 'commander';
import type { ToolFlags } from './ovsdb-client-commands.js';

const COMMANDS: { name: string; usage: string; description: string }[] = [
  { name: 'list-dbs', usage: '[SERVER]', description: 'list databases available on SERVER' },
  {
    name: 'get-schema',
    usage: '[SERVER] [DATABASE]',
    description: 'print the schema of DATABASE as JSON',
  },
  {
    name: 'get-schema-version',
    usage: '[SERVER] [DATABASE]',
    description: 'print only the version of the schema of DATABASE',
  },
  {
    name: 'get-schema-cksum',
    usage: '[SERVER] [DATABASE]',
    description: 'print only the checksum of the schema of DATABASE',
  },
  {
    name: 'list-tables',
    usage: '[SERVER] [DATABASE]',
    description: 'list the tables of DATABASE',
  },
  {
    name: 'list-columns',
    usage: '[SERVER] [DATABASE] [TABLE]',
    description: 'list the columns of TABLE (or of every table) with their types',
  },
  {
    name: 'transact',
    usage: '[SERVER] TRANSACTION',
    description: 'run TRANSACTION (["DATABASE", operation...]) and print the result as JSON',
  },
  {
    name: 'query',
    usage: '[SERVER] TRANSACTION',
    description:
      'run TRANSACTION as read-only (aborted at the end, nothing is committed) and print the result',
  },
  {
    name: 'dump',
    usage: '[SERVER] [DATABASE] [TABLE [COLUMN]...]',
    description: 'print the contents of DATABASE (or of one TABLE)',
  },
  {
    name: 'monitor-cond',
    usage: '[SERVER] [DATABASE] CONDITION TABLE [COLUMN,...]...',
    description: 'like monitor, for the rows that match CONDITION (a JSON array of clauses)',
  },
  {
    name: 'monitor',
    usage: '[SERVER] [DATABASE] TABLE|ALL [COLUMN,...]...',
    description: 'print the contents of TABLE, then every change, until interrupted',
  },
];

/** The options of the C tool that we support; accepted before or after the command name. */
function addToolOptions(cmd: Command): Command {
  return cmd
    .option('-f, --format <format>', 'output format: table, json, csv or html', 'table')
    .option('--pretty', 'pretty-print JSON output')
    .option('--no-headings', 'omit the heading lines of tables')
    .option('-p, --private-key <file>', 'private key for ssl: servers')
    .option('-c, --certificate <file>', 'certificate for ssl: servers')
    .option('-C, --ca-cert <file>', 'CA certificate that signed the server certificate')
    .option('-t, --timeout <seconds>', 'give up after this many seconds (0 = never)', '0');
}

/**
 * Options given after the command win; options given before it (`ovsdb-client -f json dump`,
 * the C tool's usual order) fill in whatever the command line after it left at its default.
 */
function mergedFlags(cmd: Command): ToolFlags {
  const own = cmd.opts<ToolFlags>();
  const parent = cmd.parent;
  if (!parent) return own;
  const fromParent = parent.opts<Record<string, unknown>>();
  const merged: Record<string, unknown> = { ...own };
  for (const key of Object.keys(fromParent)) {
    const ownSource = cmd.getOptionValueSource(key);
    if ((ownSource === undefined || ownSource === 'default') && parent.getOptionValueSource(key) === 'cli') {
      merged[key] = fromParent[key];
    }
  }
  return merged as unknown as ToolFlags;
}

export function register(program: Command): void {
  const tool = addToolOptions(
    program
      .command('ovsdb-client')
      .description("OVSDB command-line client with the commands and output of OVS's ovsdb-client")
      .usage('[options] COMMAND [SERVER] [DATABASE] [ARG...]'),
  ).enablePositionalOptions();
  for (const def of COMMANDS) {
    addToolOptions(
      tool
        .command(def.name)
        .description(def.description)
        .usage(`${def.usage} [options]`)
        .argument('[args...]'),
    ).action(async (args: string[], _flags: ToolFlags, cmd: Command) => {
      try {
        const { runToolCommand } = await import('./ovsdb-client-commands.js');
        await runToolCommand(def.name, args, mergedFlags(cmd));
      } catch (err) {
        process.stderr.write(
          `ovsdb-client ${def.name}: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exitCode = 1;
      }
    });
  }
}
