/**
 * Generates docs/cli.md, the command reference, from the live `--help` of every built command and
 * subcommand, so the reference cannot drift from the code: a flag shown there is a flag the
 * binary accepts.
 *
 *   npm run build && tsx scripts/gen-cli-docs.ts          write docs/cli.md
 *   tsx scripts/gen-cli-docs.ts --check                    exit 1 when docs/cli.md is out of date
 *   tsx scripts/gen-cli-docs.ts --out FILE                 write (or, with --check, compare) FILE
 *   tsx scripts/gen-cli-docs.ts --check-docs [FILE...]     exit 1 when a command line shown in the docs
 *                                                          (default README.md, docs/*.md, deploy/README.md)
 *                                                          names a subcommand or flag the binaries lack
 *
 * Subcommands are discovered from each help text's "Commands:" section, recursively. The two CNI
 * binaries have no --help (they speak CNI on the environment and stdin): their VERSION answer is
 * recorded instead. Help is captured through a pipe, so commander wraps it at its default width
 * whatever the terminal: the output is the same on every machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST_CLI = join(ROOT, 'dist', 'cli');
const DEFAULT_OUT = join(ROOT, 'docs', 'cli.md');

class CliDocsError extends Error {
  override name = 'CliDocsError';
}

/** The commander-based binaries, in the order an operator meets them. */
const PROGRAMS: ReadonlyArray<{ bin: string; role: string }> = [
  {
    bin: 'ovn-k8s-watcher',
    role: 'the master-side daemon: Kubernetes objects become the OVN logical network',
  },
  {
    bin: 'ovn-k8s-overlay',
    role: 'cluster and node initialisation, run once (master-init, minion-init, gateway-init)',
  },
  {
    bin: 'ovn-k8s-util',
    role: 'operator utilities: configuration, control socket, pictures, OVSDB client, sandbox',
  },
];

/** The CNI binaries: no --help, VERSION answers on stdout. */
const CNI_PLUGINS: ReadonlyArray<{ bin: string; role: string }> = [
  {
    bin: 'ovn-k8s-cni-overlay',
    role:
      'the CNI plugin of the default network (and of secondary OVN networks): ADD waits for the ' +
      "pod's `k8s.ovn.org/pod-networks` annotation, plugs a veth into br-int with " +
      '`external_ids:iface-id=<namespace>_<pod>`; DEL unplugs; CHECK verifies',
  },
  {
    bin: 'ovn-k8s-ipam',
    role:
      'the CNI IPAM plugin a NetworkAttachmentDefinition names in its `ipam` section (macvlan, ipvlan, ' +
      'ovs-cni, host-device...): returns the addresses the central IPAM in ovn-k8s-watcher wrote into ' +
      'the `ovn-k8s.io/ipam-allocations` pod annotation',
  },
];

interface HelpPage {
  /** e.g. ['ovn-k8s-util', 'sandbox', 'start'] */
  path: string[];
  text: string;
}

function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const file = join(DIST_CLI, `${bin}.js`);
  if (!existsSync(file)) throw new CliDocsError(`${file} is missing: run \`npm run build\` first`);
  try {
    return execFileSync(process.execPath, [file, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      // a fixed environment: no terminal width, no colour, no configuration that changes defaults
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', NO_COLOR: '1', ...env },
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new CliDocsError(`${bin} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/** Names in the "Commands:" section of a commander help text (without `help`). */
export function subcommandsOf(help: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Commands:');
  if (start < 0) return [];
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    // a command starts at two spaces; wrapped description lines are indented further
    const m = /^ {2}([a-z0-9][a-z0-9-]*)(?:\s|$)/.exec(line);
    if (m && m[1] !== 'help') names.push(m[1]!);
  }
  return names;
}

function collect(bin: string, sub: string[] = []): HelpPage[] {
  const text = runBin(bin, [...sub, '--help']).trimEnd();
  const pages: HelpPage[] = [{ path: [bin, ...sub], text }];
  for (const name of subcommandsOf(text)) pages.push(...collect(bin, [...sub, name]));
  return pages;
}

const anchorOf = (path: string[]): string => path.join('-').replace(/[^a-z0-9-]/g, '');
const fence = (text: string): string => `\`\`\`text\n${text}\n\`\`\``;

type Program = (typeof PROGRAMS)[number] & { pages: HelpPage[] };

const collectAll = (): Program[] => PROGRAMS.map((p) => ({ ...p, pages: collect(p.bin) }));

/** The reference, formatted as `prettier --check .` (npm run lint) expects it. */
export async function render(programs: Program[] = collectAll()): Promise<string> {
  const config = (await prettier.resolveConfig(DEFAULT_OUT)) ?? {};
  return prettier.format(renderRaw(programs), { ...config, filepath: DEFAULT_OUT, parser: 'markdown' });
}

// ---- checking the command lines shown in the documentation -------------------------------------

/** Long and short options of a help page's "Options:" section (`--pidfile`, `-o`, `--no-ovs`). */
export function optionsOf(help: string): Set<string> {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Options:');
  const out = new Set<string>();
  if (start < 0) return out;
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || /^\S/.test(line)) break;
    // an option line starts at two spaces: "  -o, --output <file>  description"
    const m = /^ {2}(-[^\s,]+)(?:, (--[^\s]+))?/.exec(line);
    if (m) for (const o of [m[1], m[2]]) if (o) out.add(o);
  }
  return out;
}

export interface DocProblem {
  file: string;
  line: number;
  text: string;
  problem: string;
}

/**
 * Every `ovn-k8s-watcher|overlay|util ...` command line in a Markdown text (inline code spans and
 * fenced code lines, `\` continuations joined), checked against the help pages: the subcommand
 * path must exist and every `--flag` / `-x` after it must be an option of that page.
 */
export function checkCommandLines(file: string, markdown: string, programs: Program[]): DocProblem[] {
  const pages = new Map<string, HelpPage>();
  for (const p of programs) for (const page of p.pages) pages.set(page.path.join(' '), page);
  const problems: DocProblem[] = [];
  const candidates: { line: number; text: string }[] = [];
  const lines = markdown.split('\n');
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) {
      let text = line;
      const first = i;
      while (text.trimEnd().endsWith('\\') && i + 1 < lines.length)
        text = `${text.trimEnd().slice(0, -1)} ${lines[++i]!}`;
      candidates.push({ line: first + 1, text: text.replace(/\s#\s.*$/, '') });
    } else {
      for (const m of line.matchAll(/`([^`]+)`/g)) candidates.push({ line: i + 1, text: m[1]! });
    }
  }
  const binRe = /(?:^|[\s/(])(ovn-k8s-(?:watcher|overlay|util))(?:\.js)?((?:\s+[^\s|;&<>)]+)*)/g;
  for (const c of candidates) {
    for (const m of c.text.matchAll(binRe)) {
      // a unit or deployment of that name (journalctl -u, systemctl reload), not the command
      if (/(?:-u|systemctl\s+\S+|deploy\/)\s*$/.test(c.text.slice(0, (m.index ?? 0) + 1))) continue;
      const tokens = (m[2] ?? '').trim().split(/\s+/).filter(Boolean);
      let path = [m[1]!];
      let page = pages.get(path.join(' '))!;
      for (const tok of tokens) {
        if (tok.startsWith('-')) {
          const flag = tok.split('=')[0]!;
          if (flag === '-h' || flag === '--help') continue;
          if (!optionsOf(page.text).has(flag))
            problems.push({
              file,
              line: c.line,
              text: c.text,
              problem: `${path.join(' ')} has no option ${flag}`,
            });
          continue;
        }
        const next = pages.get([...path, tok].join(' '));
        if (next && subcommandsOf(page.text).includes(tok)) {
          path = [...path, tok];
          page = next;
        }
      }
    }
  }
  return problems;
}

const DEFAULT_DOCS = ['README.md', 'deploy/README.md', 'docs/design.md'];

function renderRaw(programs: Program[]): string {
  const out: string[] = [
    '# Command reference',
    '',
    '<!-- Generated by scripts/gen-cli-docs.ts from the live --help of every built command; do not edit.',
    '     Regenerate: npm run build && npx tsx scripts/gen-cli-docs.ts -->',
    '',
    'Every command and flag below is the real `--help` output of the built binaries (`dist/cli/`),',
    'regenerated by `scripts/gen-cli-docs.ts`. Installed with `npm install -g` (or in the container',
    'image) they are on the PATH under these names; from a checkout run `node dist/cli/<name>.js`.',
    '',
  ];
  out.push('## Contents', '');
  for (const p of programs) {
    out.push(`- [\`${p.bin}\`](#${anchorOf([p.bin])}): ${p.role}`);
    for (const page of p.pages.slice(1))
      out.push(`${'  '.repeat(page.path.length - 1)}- [\`${page.path.join(' ')}\`](#${anchorOf(page.path)})`);
  }
  for (const c of CNI_PLUGINS) out.push(`- [\`${c.bin}\`](#${anchorOf([c.bin])}) (CNI)`);
  out.push('');
  for (const p of programs) {
    for (const page of p.pages) {
      out.push(`<a id="${anchorOf(page.path)}"></a>`, '');
      out.push(`${page.path.length === 1 ? '##' : '###'} \`${page.path.join(' ')}\``, '');
      if (page.path.length === 1) out.push(p.role, '');
      out.push(fence(page.text), '');
    }
  }
  out.push('## CNI plugins', '');
  out.push(
    'The container runtime runs these with `CNI_COMMAND`, `CNI_CONTAINERID`, `CNI_NETNS`, `CNI_IFNAME`,',
    '`CNI_ARGS` (`K8S_POD_NAMESPACE`, `K8S_POD_NAME`, `K8S_POD_UID`) and `CNI_PATH` in the environment and',
    'the network configuration on stdin; the result or a CNI error object goes to stdout.',
    '',
  );
  for (const c of CNI_PLUGINS) {
    const version = runBin(c.bin, [], { CNI_COMMAND: 'VERSION' }).trim();
    out.push(`<a id="${anchorOf([c.bin])}"></a>`, '');
    out.push(`### \`${c.bin}\``, '', `${c.role}.`, '');
    out.push(`\`CNI_COMMAND=VERSION ${c.bin} </dev/null\`:`, '', fence(version), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--check-docs')) {
    const files = argv.filter((a) => !a.startsWith('--'));
    const programs = collectAll();
    let count = 0;
    for (const f of files.length > 0 ? files : DEFAULT_DOCS) {
      const path = resolve(ROOT, f);
      if (!existsSync(path)) continue;
      for (const p of checkCommandLines(f, readFileSync(path, 'utf8'), programs)) {
        count++;
        process.stderr.write(`${p.file}:${p.line}: ${p.problem}\n    ${p.text.trim()}\n`);
      }
    }
    if (count === 0)
      process.stdout.write('every command line shown in the docs uses existing subcommands and flags\n');
    return count === 0 ? 0 : 1;
  }
  const check = argv.includes('--check');
  const outIdx = argv.indexOf('--out');
  const outFile = outIdx >= 0 && argv[outIdx + 1] ? resolve(argv[outIdx + 1]!) : DEFAULT_OUT;
  const text = await render();
  if (check) {
    const current = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`${outFile} is out of date: run \`npx tsx scripts/gen-cli-docs.ts\`\n`);
      return 1;
    }
    return 0;
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  process.stdout.write(`wrote ${outFile}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`gen-cli-docs: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
