/**
 * A readable dump of the logical topology in NB (switches with their ports and addresses,
 * routers with their ports, routes and NAT, load balancers with their VIPs), from an NbView.
 */
import type { Row } from '../ovsdb/value.js';
import type { NbView } from '../ovn/reconcile/view.js';

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]);
const map = (v: unknown): Record<string, string> =>
  v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) ? (v as Record<string, string>) : {};
const byName = (a: Row, b: Row) => String(a.name ?? '').localeCompare(String(b.name ?? ''));

export function formatTopology(view: NbView): string {
  const lines: string[] = [];
  const rowsOf = (uuids: unknown, table: string): Row[] =>
    arr(uuids).flatMap((u) => (typeof u === 'string' ? (view.get(table, u) ?? []) : []));

  for (const ls of [...view.rows('Logical_Switch')].sort(byName)) {
    const cfg = map(ls.other_config);
    lines.push(`switch ${String(ls.name)}${cfg.subnet ? ` (subnet ${cfg.subnet})` : ''}`);
    for (const p of rowsOf(ls.ports, 'Logical_Switch_Port').sort(byName)) {
      const type = typeof p.type === 'string' && p.type !== '' ? ` [${p.type}]` : '';
      const opts = map(p.options);
      const peer = opts['router-port']
        ? ` -> ${opts['router-port']}`
        : opts.network_name
          ? ` network ${opts.network_name}`
          : '';
      lines.push(`  port ${String(p.name)}${type}: ${arr(p.addresses).join(' | ')}${peer}`);
    }
  }
  for (const lr of [...view.rows('Logical_Router')].sort(byName)) {
    const chassis = map(lr.options).chassis;
    lines.push(`router ${String(lr.name)}${chassis ? ` (chassis ${chassis})` : ''}`);
    for (const p of rowsOf(lr.ports, 'Logical_Router_Port').sort(byName))
      lines.push(`  port ${String(p.name)}: ${String(p.mac)} ${arr(p.networks).join(' ')}`);
    for (const r of rowsOf(lr.static_routes, 'Logical_Router_Static_Route'))
      lines.push(
        `  route ${r.policy === 'src-ip' ? 'src-ip ' : ''}${String(r.ip_prefix)} via ${String(r.nexthop)}`,
      );
    for (const n of rowsOf(lr.nat, 'NAT'))
      lines.push(`  nat ${String(n.type)} ${String(n.logical_ip)} -> ${String(n.external_ip)}`);
  }
  for (const lb of [...view.rows('Load_Balancer')].sort(byName)) {
    lines.push(`load balancer ${String(lb.name)} (${String(arr(lb.protocol)[0] ?? 'tcp')})`);
    for (const [vip, backends] of Object.entries(map(lb.vips)).sort())
      lines.push(`  ${vip} -> ${backends === '' ? '(no endpoints: reject)' : backends}`);
  }
  return lines.join('\n');
}
