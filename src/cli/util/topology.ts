/**
 * `ovn-k8s-util topology --format dot|svg|mermaid [--nb-address R] [-o FILE]`: draws the live
 * logical network from the NB database (routers, gateway routers, switches, ports with addresses,
 * load balancers, secondary networks). svg goes through Graphviz's `dot -Tsvg`.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';

export class TopologyFormatError extends Error {
  constructor(format: string) {
    super(`--format must be dot, svg or mermaid, got "${format}"`);
    this.name = 'TopologyFormatError';
  }
}

interface TopologyFlags {
  format: string;
  nbAddress?: string;
  nbPrivkey?: string;
  nbCert?: string;
  nbCacert?: string;
  output?: string;
  maxPorts: string;
  noLoadBalancers?: boolean;
  loadBalancers?: boolean;
}

export function register(program: Command): void {
  program
    .command('topology')
    .description('draw the live OVN logical network (dot, svg through Graphviz, or mermaid)')
    .option('--format <format>', 'dot, svg or mermaid', 'svg')
    .option(
      '--nb-address <remotes>',
      'NB database (default: configuration nb_address, else unix:<unix_socket>)',
    )
    .option('--nb-privkey <file>', 'TLS private key for ssl: remotes')
    .option('--nb-cert <file>', 'TLS certificate for ssl: remotes')
    .option('--nb-cacert <file>', 'CA certificate for ssl: remotes')
    .option('-o, --output <file>', 'write here instead of stdout')
    .option('--max-ports <n>', 'ports listed per switch or router', '16')
    .option('--no-load-balancers', 'leave load balancers out (large clusters)')
    .action(async (flags: TopologyFlags) => {
      const format = flags.format;
      if (format !== 'dot' && format !== 'svg' && format !== 'mermaid') throw new TopologyFormatError(format);
      // loaded on use: the NB client and the renderers are not needed to register or to print help
      const [{ resolveConfig }, { buildTopology, dotToSvg, readNbSnapshot, renderDot, renderMermaid }] =
        await Promise.all([import('../../config/index.js'), import('../../ovn/topology/index.js')]);
      let remotes = flags.nbAddress;
      if (!remotes) {
        const cfg = await resolveConfig({});
        remotes = cfg.string('nb_address') ?? `unix:${cfg.string('unix_socket')}`;
      }
      const tls =
        flags.nbPrivkey && flags.nbCert && flags.nbCacert
          ? { privateKey: flags.nbPrivkey, certificate: flags.nbCert, caCert: flags.nbCacert }
          : undefined;
      const snapshot = await readNbSnapshot({ remotes, ...(tls ? { tls } : {}) });
      const topo = buildTopology(snapshot);
      const opts = {
        maxPorts: Number(flags.maxPorts) || 16,
        hideLoadBalancers: flags.loadBalancers === false,
        title: `OVN logical network (${remotes})`,
      };
      const text =
        format === 'mermaid'
          ? renderMermaid(topo, opts)
          : format === 'dot'
            ? renderDot(topo, opts)
            : await dotToSvg(renderDot(topo, opts));
      if (flags.output) await writeFile(flags.output, text);
      else process.stdout.write(text);
    });
}
