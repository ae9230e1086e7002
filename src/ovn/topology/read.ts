/** Reads the NB tables the picture needs through our OVSDB client (one consistent snapshot). */
import { OvsdbDatabase } from '../../ovsdb/database.js';
import type { NbTables } from '../models/nb.js';
import type { NbSnapshot } from './model.js';

const TABLES = [
  'Logical_Router',
  'Logical_Router_Port',
  'Logical_Switch',
  'Logical_Switch_Port',
  'Load_Balancer',
  'Load_Balancer_Group',
  'Logical_Router_Static_Route',
  'NAT',
] as const;

export interface ReadNbOptions {
  remotes: string;
  tls?: { privateKey: string; certificate: string; caCert: string };
  timeoutMs?: number;
}

export async function readNbSnapshot(opts: ReadNbOptions): Promise<NbSnapshot> {
  const db = await OvsdbDatabase.open<NbTables>({
    remotes: opts.remotes,
    database: 'OVN_Northbound',
    tables: Object.fromEntries(TABLES.map((t) => [t, {}])),
    // a reader: any cluster member will do
    leaderOnly: false,
    openTimeoutMs: opts.timeoutMs ?? 30_000,
    ...(opts.tls ? { tls: opts.tls } : {}),
  });
  try {
    return {
      Logical_Router: await db.list('Logical_Router'),
      Logical_Router_Port: await db.list('Logical_Router_Port'),
      Logical_Switch: await db.list('Logical_Switch'),
      Logical_Switch_Port: await db.list('Logical_Switch_Port'),
      Load_Balancer: await db.list('Load_Balancer'),
      Load_Balancer_Group: await db.list('Load_Balancer_Group'),
      Logical_Router_Static_Route: await db.list('Logical_Router_Static_Route'),
      NAT: await db.list('NAT'),
    };
  } finally {
    await db.close();
  }
}
