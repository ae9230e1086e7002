/**
 * The node's Open_vSwitch database, through our OVSDB client: the few reads and writes the node
 * side needs (external_ids of the Open_vSwitch row, bridges, ports and their interfaces).
 *
 * Every write is computed from the current rows first and skipped when nothing differs, so a
 * command run twice sends no transaction the second time. Maps are changed key by key with
 * mutations (never overwritten whole), so keys that other tools own are left alone.
 */
import { OvsdbClient } from '../ovsdb/client.js';
import { where, type Condition } from '../ovsdb/condition.js';
import { mutate, type Mutation } from '../ovsdb/mutation.js';
import { runTransaction, selectedRows, TxnBuilder, type TxnResult } from '../ovsdb/txn.js';
import type { Value } from '../ovsdb/value.js';
import { vswitchSchema, type VswitchTables } from '../ovn/models/vswitch.js';
import { NodeTimeoutError, OvsDbUnavailableError } from './errors.js';

/** Where ovs-vswitchd's database listens on a standard install. */
export const DEFAULT_OVS_ADDRESS = 'unix:/var/run/openvswitch/db.sock';

export type StringMap = Record<string, string>;
type Txn = TxnBuilder<VswitchTables>;

export interface OpenVswitchRow {
  uuid: string;
  version: string;
  externalIds: StringMap;
  bridges: string[];
}

export interface BridgeRow {
  uuid: string;
  name: string;
  datapathType: string;
  failMode: string | null;
  ports: string[];
  otherConfig: StringMap;
  externalIds: StringMap;
}

export interface PortRow {
  uuid: string;
  name: string;
  interfaces: string[];
  externalIds: StringMap;
}

export interface InterfaceRow {
  uuid: string;
  name: string;
  type: string;
  mac: string | null;
  macInUse: string | null;
  ofport: number | null;
  mtuRequest: number | null;
  externalIds: StringMap;
  error: string | null;
}

export interface PortSpec {
  /** Interface type: '' for a system device (veth, NIC), 'internal' for an OVS internal port */
  type?: string;
  /** external_ids keys we own on the Interface; other keys are left alone */
  externalIds?: StringMap;
  /** Interface.mac (honoured for internal ports) */
  mac?: string;
  mtuRequest?: number;
}

export interface BridgeSpec {
  datapathType?: string;
  failMode?: 'secure' | 'standalone';
  otherConfig?: StringMap;
  externalIds?: StringMap;
}

const asMap = (v: Value | undefined): StringMap =>
  v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) ? (v as StringMap) : {};
const asSet = (v: Value | undefined): string[] => (Array.isArray(v) ? (v as string[]) : []);
const asOpt = <T>(v: Value | undefined): T | null => (v === undefined || v === null ? null : (v as T));

/** The mutations that make `current` carry every key of `desired` (other keys untouched). */
export function mapChanges<C extends string>(
  column: C,
  current: StringMap,
  desired: StringMap,
): Mutation<C>[] {
  const changed = Object.entries(desired).filter(([k, v]) => current[k] !== v);
  if (changed.length === 0) return [];
  const out: Mutation<C>[] = [];
  const replaced = changed.filter(([k]) => k in current).map(([k]) => k);
  // an OVSDB map insert never overwrites an existing key: delete the stale pairs first
  if (replaced.length > 0) out.push(mutate.deleteKeys(column, replaced));
  out.push(mutate.insert(column, Object.fromEntries(changed)));
  return out;
}

export class OvsConfigDb {
  private transactions = 0;

  private constructor(
    readonly client: OvsdbClient,
    readonly remote: string,
  ) {}

  /** Connects; an unreachable database becomes one OvsDbUnavailableError naming the remote. */
  static async connect(remote: string, timeoutMs = 5_000): Promise<OvsConfigDb> {
    try {
      const client = await OvsdbClient.connect(remote, { connectTimeoutMs: timeoutMs });
      return new OvsConfigDb(client, remote);
    } catch (err) {
      throw new OvsDbUnavailableError(
        `cannot reach the Open_vSwitch database at ${remote} (${(err as Error).message}); ` +
          'is ovsdb-server running? pass --ovs-address',
        { cause: err },
      );
    }
  }

  /** Number of write transactions this handle sent (0 after a run that changed nothing). */
  get writes(): number {
    return this.transactions;
  }

  close(): void {
    this.client.close();
  }

  private txn(): Txn {
    return new TxnBuilder<VswitchTables>(vswitchSchema());
  }

  private async send(txn: Txn): Promise<TxnResult> {
    return runTransaction(this.client, txn);
  }

  /** Sends a write transaction built by `build` (counted in `writes`). */
  async write(build: (txn: Txn) => void): Promise<TxnResult> {
    const txn = this.txn();
    build(txn);
    this.transactions++;
    return this.send(txn);
  }

  private async select<K extends keyof VswitchTables & string>(
    table: K,
    conds: readonly Condition<string>[],
  ): Promise<Array<Record<string, Value>>> {
    const txn = this.txn();
    const i = (txn as unknown as TxnBuilder).select(table, conds);
    return selectedRows(await this.send(txn), i);
  }

  async openVswitch(): Promise<OpenVswitchRow> {
    const rows = await this.select('Open_vSwitch', []);
    const r = rows[0];
    if (!r) {
      throw new OvsDbUnavailableError(
        `the Open_vSwitch table at ${this.remote} has no row; run "ovs-vsctl --no-wait init" first`,
      );
    }
    return {
      uuid: r._uuid as string,
      version: r._version as string,
      externalIds: asMap(r.external_ids),
      bridges: asSet(r.bridges),
    };
  }

  /** Sets the given external_ids of the Open_vSwitch row; returns the keys it changed. */
  async setOvsExternalIds(desired: StringMap): Promise<string[]> {
    const row = await this.openVswitch();
    const muts = mapChanges('external_ids', row.externalIds, desired);
    if (muts.length === 0) return [];
    await this.write((t) => t.mutate('Open_vSwitch', [where.uuid(row.uuid)], muts));
    return Object.keys(desired).filter((k) => row.externalIds[k] !== desired[k]);
  }

  async bridge(name: string): Promise<BridgeRow | undefined> {
    const r = (await this.select('Bridge', [where.eq('name', name)]))[0];
    if (!r) return undefined;
    return {
      uuid: r._uuid as string,
      name: r.name as string,
      datapathType: r.datapath_type as string,
      failMode: asOpt<string>(r.fail_mode),
      ports: asSet(r.ports),
      otherConfig: asMap(r.other_config),
      externalIds: asMap(r.external_ids),
    };
  }

  async port(name: string): Promise<PortRow | undefined> {
    const r = (await this.select('Port', [where.eq('name', name)]))[0];
    if (!r) return undefined;
    return {
      uuid: r._uuid as string,
      name: r.name as string,
      interfaces: asSet(r.interfaces),
      externalIds: asMap(r.external_ids),
    };
  }

  async iface(name: string): Promise<InterfaceRow | undefined> {
    const r = (await this.select('Interface', [where.eq('name', name)]))[0];
    if (!r) return undefined;
    const num = (v: Value | undefined): number | null =>
      typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;
    return {
      uuid: r._uuid as string,
      name: r.name as string,
      type: r.type as string,
      mac: asOpt<string>(r.mac),
      macInUse: asOpt<string>(r.mac_in_use),
      ofport: num(r.ofport),
      mtuRequest: num(r.mtu_request),
      externalIds: asMap(r.external_ids),
      error: asOpt<string>(r.error),
    };
  }

  /** Interfaces whose external_ids carry `key=value`. */
  async interfacesWith(key: string, value: string): Promise<string[]> {
    const rows = await this.select('Interface', [where.includes('external_ids', { [key]: value })]);
    return rows.map((r) => r.name as string);
  }

  /**
   * Creates bridge `name` (with its internal port of the same name) when missing; when present,
   * brings only the columns given in `spec` in line. Returns whether anything was written.
   */
  async ensureBridge(name: string, spec: BridgeSpec): Promise<boolean> {
    const existing = await this.bridge(name);
    if (!existing) {
      const ovs = await this.openVswitch();
      await this.write((t) => {
        const iface = t.insert('Interface', { name, type: 'internal' });
        const port = t.insert('Port', { name, interfaces: [iface] });
        const row: Parameters<Txn['insert']>[1] = { name, ports: [port] };
        const br = t.insert('Bridge', {
          ...row,
          ...(spec.datapathType !== undefined ? { datapath_type: spec.datapathType } : {}),
          ...(spec.failMode ? { fail_mode: spec.failMode } : {}),
          ...(spec.otherConfig ? { other_config: spec.otherConfig } : {}),
          ...(spec.externalIds ? { external_ids: spec.externalIds } : {}),
        } as Parameters<Txn['insert']>[1]);
        t.mutate('Open_vSwitch', [where.uuid(ovs.uuid)], [mutate.insert('bridges', [br])]);
      });
      return true;
    }
    const row: Partial<VswitchTables['Bridge']> = {};
    if (spec.datapathType !== undefined && existing.datapathType !== spec.datapathType)
      row.datapath_type = spec.datapathType;
    if (spec.failMode && existing.failMode !== spec.failMode) row.fail_mode = spec.failMode;
    const muts = [
      ...mapChanges('other_config', existing.otherConfig, spec.otherConfig ?? {}),
      ...mapChanges('external_ids', existing.externalIds, spec.externalIds ?? {}),
    ];
    if (Object.keys(row).length === 0 && muts.length === 0) return false;
    await this.write((t) => {
      if (Object.keys(row).length > 0) t.update('Bridge', [where.uuid(existing.uuid)], row);
      if (muts.length > 0) t.mutate('Bridge', [where.uuid(existing.uuid)], muts);
    });
    return true;
  }

  /**
   * Makes port `name` (one interface of the same name) a port of `bridge` with `spec`. An existing
   * port on another bridge is moved. Returns whether anything was written.
   */
  async ensurePort(bridge: string, name: string, spec: PortSpec = {}): Promise<boolean> {
    const br = await this.bridge(bridge);
    if (!br) throw new OvsDbUnavailableError(`bridge ${bridge} does not exist in ${this.remote}`);
    const port = await this.port(name);
    const iface = port ? await this.iface(name) : undefined;
    if (!port || !iface || !br.ports.includes(port.uuid)) {
      const owner = port ? await this.bridgeOfPort(port.uuid) : undefined;
      await this.write((t) => {
        if (port && owner) t.mutate('Bridge', [where.uuid(owner)], [mutate.delete('ports', [port.uuid])]);
        const ifaceRow: Record<string, Value> = { name, type: spec.type ?? '' };
        if (spec.externalIds) ifaceRow.external_ids = spec.externalIds;
        if (spec.mac) ifaceRow.mac = spec.mac;
        if (spec.mtuRequest !== undefined) ifaceRow.mtu_request = spec.mtuRequest;
        const i = t.insert('Interface', ifaceRow as Parameters<Txn['insert']>[1]);
        const p = t.insert('Port', { name, interfaces: [i] });
        t.mutate('Bridge', [where.uuid(br.uuid)], [mutate.insert('ports', [p])]);
      });
      return true;
    }
    const row: Partial<VswitchTables['Interface']> = {};
    if (spec.type !== undefined && iface.type !== spec.type) row.type = spec.type;
    if (spec.mac !== undefined && iface.mac !== spec.mac) row.mac = spec.mac;
    if (spec.mtuRequest !== undefined && iface.mtuRequest !== spec.mtuRequest)
      row.mtu_request = spec.mtuRequest;
    const muts = mapChanges('external_ids', iface.externalIds, spec.externalIds ?? {});
    if (Object.keys(row).length === 0 && muts.length === 0) return false;
    await this.write((t) => {
      if (Object.keys(row).length > 0) t.update('Interface', [where.uuid(iface.uuid)], row);
      if (muts.length > 0) t.mutate('Interface', [where.uuid(iface.uuid)], muts);
    });
    return true;
  }

  private async bridgeOfPort(portUuid: string): Promise<string | undefined> {
    const rows = await this.select('Bridge', [where.includes('ports', [portUuid])]);
    return rows[0]?._uuid as string | undefined;
  }

  /** Removes port `name` from whatever bridge holds it; false when there was none. */
  async deletePort(name: string): Promise<boolean> {
    const port = await this.port(name);
    if (!port) return false;
    const owner = await this.bridgeOfPort(port.uuid);
    if (!owner) return false;
    // Port and Interface are non-root tables: dropping the reference garbage-collects both rows.
    await this.write((t) => t.mutate('Bridge', [where.uuid(owner)], [mutate.delete('ports', [port.uuid])]));
    return true;
  }

  /** Polls interface `name` until `ok(row)` holds. */
  async waitInterface(
    name: string,
    what: string,
    ok: (row: InterfaceRow) => boolean,
    timeoutMs: number,
  ): Promise<InterfaceRow> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = await this.iface(name);
      if (row && ok(row)) return row;
      if (Date.now() > deadline) {
        throw new NodeTimeoutError(
          `interface ${name}: ${what} did not happen within ${timeoutMs} ms` +
            (row?.error ? ` (ovs-vswitchd reports: ${row.error})` : ''),
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
