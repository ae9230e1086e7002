/**
 * `npm run bench [-- --only NAME[,NAME]] [--scale X] [--list]`: runs the benchmark modules and
 * prints, per module, every figure next to a baseline measured in the same run.
 *
 * To add a bench: write a module exporting a BenchModule and add it to BENCHES (one line).
 */
import { ovsdbBench } from './ovsdb/index.js';
import { watcherBench } from './watcher/index.js';
import { ipamLoadBench } from './ipam-load/index.js';
import { formatResult, verdict, type BenchModule } from './lib/report.js';

const BENCHES: BenchModule[] = [ovsdbBench, watcherBench, ipamLoadBench];

interface Args {
  only: string[] | undefined;
  scale: number;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: undefined, scale: 1, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--only') args.only = value().split(',');
    else if (flag === '--scale') {
      args.scale = Number(value());
      if (!(args.scale > 0)) throw new Error('--scale must be a positive number');
    } else if (flag === '--list') args.list = true;
    else throw new Error(`unknown option ${a} (use --only NAME, --scale X, --list)`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const b of BENCHES) process.stdout.write(`${b.name}: ${b.description}\n`);
    return;
  }
  const unknown = (args.only ?? []).filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0)
    throw new Error(`unknown bench ${unknown.join(', ')} (have: ${BENCHES.map((b) => b.name).join(', ')})`);
  const selected = BENCHES.filter((b) => !args.only || args.only.includes(b.name));
  let misses = 0;
  for (const b of selected) {
    process.stdout.write(`# ${b.name}: ${b.description} (scale ${args.scale})\n`);
    const result = await b.run({ scale: args.scale, log: (m) => process.stderr.write(`[${b.name}] ${m}\n`) });
    process.stdout.write(`\n${formatResult(b.name, result)}\n`);
    misses += result.comparisons.filter((c) => verdict(c) === 'MISS').length;
    misses += result.measurements.filter((m) => m.max !== undefined && m.value > m.max).length;
  }
  process.stdout.write(misses === 0 ? 'all targets met\n' : `${misses} target(s) missed\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
