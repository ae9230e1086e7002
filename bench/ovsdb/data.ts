/**
 * The rows of the ovsdb bench: S logical switches with P ports each, loaded one switch (with its
 * ports) per transaction. The same rows are produced as native rows for our TxnBuilder and as
 * the wire JSON that `ovsdb-client transact` takes.
 */
import type { RowInput } from '../../src/ovsdb/txn.js';

export const NB_DB = 'OVN_Northbound';

export interface Shape {
  switches: number;
  portsPerSwitch: number;
}

/** 1,000 x 100 at scale 1; the switch count shrinks with the scale (at least one switch). */
export function shapeFor(scale: number): Shape {
  return { switches: Math.max(1, Math.round(1000 * scale)), portsPerSwitch: 100 };
}

const hex2 = (n: number): string => (n & 255).toString(16).padStart(2, '0');

export interface SwitchRows {
  sw: RowInput;
  ports: RowInput[];
}

/** The native rows of switch `s` (ports reference nothing; the switch lists them). */
export function switchRows(s: number, shape: Shape): SwitchRows {
  const ports: RowInput[] = [];
  for (let j = 0; j < shape.portsPerSwitch; j++) {
    const i = s * shape.portsPerSwitch + j;
    ports.push({
      name: `ns${s}_pod${j}`,
      addresses: [
        `0a:58:0a:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)} 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      ],
      external_ids: { namespace: `ns${s}`, pod: 'true' },
      options: { requested_chassis: `node${s}` },
    });
  }
  return { sw: { name: `node${s}`, external_ids: { 'k8s.ovn.org/node': `node${s}` } }, ports };
}

function wireMap(m: Record<string, unknown>): unknown {
  return ['map', Object.entries(m).map(([k, v]) => [k, v])];
}

/** The `ovsdb-client transact` argument for switch `s`: its ports, then the switch naming them. */
export function switchTxnJson(s: number, shape: Shape): string {
  const { sw, ports } = switchRows(s, shape);
  const ops: unknown[] = [NB_DB];
  ports.forEach((p, j) => {
    ops.push({
      op: 'insert',
      table: 'Logical_Switch_Port',
      'uuid-name': `p${j}`,
      row: {
        name: p.name,
        addresses: ['set', p.addresses],
        external_ids: wireMap(p.external_ids as Record<string, unknown>),
        options: wireMap(p.options as Record<string, unknown>),
      },
    });
  });
  ops.push({
    op: 'insert',
    table: 'Logical_Switch',
    row: {
      name: sw.name,
      external_ids: wireMap(sw.external_ids as Record<string, unknown>),
      ports: ['set', ports.map((_, j) => ['named-uuid', `p${j}`])],
    },
  });
  return JSON.stringify(ops);
}
