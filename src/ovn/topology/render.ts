/** Text renderings of a Topology: Graphviz DOT and Mermaid flowchart. */
import { DEFAULT_NETWORK, type TopoPort, type Topology } from './model.js';

export interface RenderOptions {
  /** ports listed per switch/router before "... N more" (default 16) */
  maxPorts?: number;
  /** VIPs listed per load balancer (default 6) */
  maxVips?: number;
  /** leave load balancers out (big clusters) */
  hideLoadBalancers?: boolean;
  title?: string;
}

function clip(lines: string[], max: number, what: string): string[] {
  return lines.length <= max ? lines : [...lines.slice(0, max), `... ${lines.length - max} more ${what}`];
}

function portLine(p: TopoPort): string {
  const kind = p.type && p.type !== 'router-port' ? ` [${p.type}]` : '';
  return `${p.name}${kind}${p.addresses ? `: ${p.addresses}` : ''}`;
}

interface NodeText {
  id: string;
  network: string;
  title: string;
  lines: string[];
  kind: 'router' | 'gateway' | 'switch' | 'lb' | 'lbgroup' | 'external';
}

function nodes(t: Topology, o: Required<Omit<RenderOptions, 'title'>>): NodeText[] {
  const out: NodeText[] = [];
  for (const r of t.routers) {
    out.push({
      id: r.id,
      network: r.network,
      kind: r.gateway ? 'gateway' : 'router',
      title: `${r.gateway ? 'gateway router' : 'router'} ${r.name}`,
      lines: [
        ...(r.chassis ? [`chassis ${r.chassis}`] : []),
        ...clip(r.ports.map(portLine), o.maxPorts, 'ports'),
        ...clip(
          r.routes.map((x) => `route ${x}`),
          o.maxPorts,
          'routes',
        ),
        ...clip(r.nats, o.maxPorts, 'NAT rules'),
      ],
    });
  }
  for (const s of t.switches) {
    out.push({
      id: s.id,
      network: s.network,
      kind: 'switch',
      title: `switch ${s.name}`,
      lines: [
        ...(s.subnet ? [`subnet ${s.subnet}`] : []),
        ...clip(s.ports.filter((p) => p.type !== 'router').map(portLine), o.maxPorts, 'ports'),
      ],
    });
  }
  if (!o.hideLoadBalancers) {
    for (const lb of t.loadBalancers)
      out.push({
        id: lb.id,
        network: lb.network,
        kind: 'lb',
        title: `load balancer ${lb.name} (${lb.protocol})`,
        lines: clip(lb.vips, o.maxVips, 'VIPs'),
      });
    for (const g of t.lbGroups)
      out.push({
        id: g.id,
        network: DEFAULT_NETWORK,
        kind: 'lbgroup',
        title: `LB group ${g.name}`,
        lines: [`${g.loadBalancers.length} load balancers`],
      });
  }
  for (const e of t.externals)
    out.push({ id: e.id, network: '', kind: 'external', title: `physical network ${e.name}`, lines: [] });
  return out;
}

function withDefaults(o: RenderOptions): Required<Omit<RenderOptions, 'title'>> {
  return {
    maxPorts: o.maxPorts ?? 16,
    maxVips: o.maxVips ?? 6,
    hideLoadBalancers: o.hideLoadBalancers ?? false,
  };
}

// ---- DOT --------------------------------------------------------------------------------------

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ')}"`;
}

function dotLabel(title: string, lines: string[]): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ');
  // \l left-justifies each line; the title stays centred (\n)
  return `"${esc(title)}\\n${lines.map((l) => `${esc(l)}\\l`).join('')}"`;
}

const DOT_STYLE: Record<NodeText['kind'], string> = {
  router: 'shape=box, style="rounded,filled", fillcolor="#cfe2ff"',
  gateway: 'shape=box, style="rounded,filled", fillcolor="#ffd8a8"',
  switch: 'shape=box, style=filled, fillcolor="#d3f9d8"',
  lb: 'shape=note, style=filled, fillcolor="#fff3bf", fontsize=9',
  lbgroup: 'shape=folder, style=filled, fillcolor="#ffec99", fontsize=9',
  external: 'shape=cylinder, style=filled, fillcolor="#e9ecef"',
};

export function renderDot(t: Topology, opts: RenderOptions = {}): string {
  const o = withDefaults(opts);
  const ns = nodes(t, o);
  const lines: string[] = [
    'digraph ovn_topology {',
    '  graph [rankdir=TB, fontname="Helvetica", compound=true, nodesep=0.4, ranksep=0.7' +
      (opts.title ? `, label=${dotString(opts.title)}, labelloc=t` : '') +
      '];',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=8, arrowhead=none];',
  ];
  const byNet = new Map<string, NodeText[]>();
  for (const n of ns) byNet.set(n.network, [...(byNet.get(n.network) ?? []), n]);
  let i = 0;
  for (const [net, members] of byNet) {
    const indent = net ? '    ' : '  ';
    if (net)
      lines.push(
        `  subgraph cluster_${i++} {`,
        `    label=${dotString(net === DEFAULT_NETWORK ? 'default network' : `network ${net}`)};`,
        '    style=dashed;',
      );
    for (const n of members)
      lines.push(`${indent}${n.id} [label=${dotLabel(n.title, n.lines)}, ${DOT_STYLE[n.kind]}];`);
    if (net) lines.push('  }');
  }
  const present = new Set(ns.map((n) => n.id));
  for (const l of t.links) {
    if (!present.has(l.from) || !present.has(l.to)) continue;
    const style =
      l.kind === 'lb' || l.kind === 'lb-group' ? ', style=dotted' : l.kind === 'uplink' ? ', style=bold' : '';
    lines.push(`  ${l.from} -> ${l.to} [label=${dotString(l.label)}${style}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

// ---- Mermaid ----------------------------------------------------------------------------------

function mermaidText(s: string): string {
  // Mermaid labels in "..." take HTML entities; quotes and angle brackets must be escaped
  return s.replace(/&/g, '&amp;').replace(/"/g, '#quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const MERMAID_SHAPE: Record<NodeText['kind'], [string, string]> = {
  router: ['(', ')'],
  gateway: ['(', ')'],
  switch: ['[', ']'],
  lb: ['[/', '/]'],
  lbgroup: ['[/', '/]'],
  external: ['[(', ')]'],
};

export function renderMermaid(t: Topology, opts: RenderOptions = {}): string {
  const o = withDefaults(opts);
  const ns = nodes(t, o);
  const lines: string[] = ['flowchart TB'];
  const byNet = new Map<string, NodeText[]>();
  for (const n of ns) byNet.set(n.network, [...(byNet.get(n.network) ?? []), n]);
  let i = 0;
  for (const [net, members] of byNet) {
    const indent = net ? '    ' : '  ';
    if (net)
      lines.push(
        `  subgraph net${i++}["${mermaidText(net === DEFAULT_NETWORK ? 'default network' : `network ${net}`)}"]`,
      );
    for (const n of members) {
      const [a, b] = MERMAID_SHAPE[n.kind];
      const label = [`<b>${mermaidText(n.title)}</b>`, ...n.lines.map(mermaidText)].join('<br/>');
      lines.push(`${indent}${n.id}${a}"${label}"${b}`);
    }
    if (net) lines.push('  end');
  }
  const present = new Set(ns.map((n) => n.id));
  for (const l of t.links) {
    if (!present.has(l.from) || !present.has(l.to)) continue;
    const arrow = l.kind === 'lb' || l.kind === 'lb-group' ? '-.-' : l.kind === 'uplink' ? '===' : '---';
    lines.push(
      l.label ? `  ${l.from} ${arrow}|"${mermaidText(l.label)}"| ${l.to}` : `  ${l.from} ${arrow} ${l.to}`,
    );
  }
  lines.push(
    '  classDef router fill:#cfe2ff,stroke:#3b5bdb',
    '  classDef gateway fill:#ffd8a8,stroke:#e8590c',
    '  classDef switch fill:#d3f9d8,stroke:#2f9e44',
    '  classDef lb fill:#fff3bf,stroke:#f08c00',
  );
  for (const kind of ['router', 'gateway', 'switch', 'lb'] as const) {
    const members = ns
      .filter((n) => n.kind === kind || (kind === 'lb' && n.kind === 'lbgroup'))
      .map((n) => n.id);
    if (members.length) lines.push(`  class ${members.join(',')} ${kind}`);
  }
  return `${lines.join('\n')}\n`;
}
