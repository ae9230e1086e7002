/**
 * Reads the local Open_vSwitch row's external_ids (ovn-nb, k8s-api-server, ...) through our
 * OVSDB client, the way the original read them with `ovs-vsctl get Open_vSwitch . external_ids`.
 */
import { OvsdbClient } from '../ovsdb/client.js';
import { ConfigError } from './errors.js';

export const DEFAULT_OVS_DB = 'unix:/var/run/openvswitch/db.sock';

/** Decodes an RFC 7047 `["map", [[k, v], ...]]` of strings. */
function decodeStringMap(wire: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(wire) && wire[0] === 'map' && Array.isArray(wire[1])) {
    for (const pair of wire[1] as unknown[]) {
      if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string')
        out[pair[0]] = pair[1];
    }
  }
  return out;
}

export async function readOvsExternalIds(
  remote = DEFAULT_OVS_DB,
  timeoutMs = 5_000,
): Promise<Record<string, string>> {
  let client: OvsdbClient;
  try {
    client = await OvsdbClient.connect(remote, { connectTimeoutMs: timeoutMs });
  } catch (err) {
    throw new ConfigError(`cannot read Open_vSwitch external_ids from ${remote}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    const [res] = await client.transact(
      'Open_vSwitch',
      [{ op: 'select', table: 'Open_vSwitch', where: [], columns: ['external_ids'] }],
      { timeoutMs },
    );
    const rows = (res as { rows?: { external_ids?: unknown }[] } | undefined)?.rows ?? [];
    return rows.length ? decodeStringMap(rows[0]!.external_ids) : {};
  } catch (err) {
    throw new ConfigError(`cannot read Open_vSwitch external_ids from ${remote}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    client.close();
  }
}
