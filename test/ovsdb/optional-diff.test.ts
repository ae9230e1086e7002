/**
 * Modifications of columns that hold at most one value, as a real ovsdb-server sends them in
 * update2/update3: the new value itself, not a symmetric difference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsdbDatabase } from '../../src/ovsdb/database.js';
import { startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { run, waitFor } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

describe('cache: optional columns changed by another client', () => {
  const tmp = tempDir();
  let server: OvsdbServer;
  let db: OvsdbDatabase;
  const nbctl = (...args: string[]) => run('ovn-nbctl', [`--db=${server.unix}`, ...args]);

  beforeAll(async () => {
    server = await startOvsdbServer({ dir: tmp.dir, name: 'nb' });
    await nbctl('ls-add', 'sw', '--', 'lsp-add', 'sw', 'p');
    db = await OvsdbDatabase.open({
      remotes: server.unix,
      database: 'OVN_Northbound',
      tables: { Logical_Switch_Port: { columns: ['name', 'parent_name', 'tag_request', 'up'] } },
    });
  });
  afterAll(async () => {
    await db?.close();
    await server?.stop();
    tmp.cleanup();
  });

  const port = () => [...db.cache.table('Logical_Switch_Port').rows()].find((r) => r.name === 'p')!;
  const settle = (what: string, ok: () => boolean) => waitFor(what, async () => ok());

  it('follows set, change and clear of optional string, integer and boolean columns', async () => {
    const errors: unknown[] = [];
    db.on('inconsistent', (e: unknown) => errors.push(e));
    await nbctl('set', 'Logical_Switch_Port', 'p', 'parent_name=a', 'tag_request=5', 'up=false');
    await settle(
      'first values',
      () => port().parent_name === 'a' && port().tag_request === 5 && port().up === false,
    );
    await nbctl('set', 'Logical_Switch_Port', 'p', 'parent_name=b', 'tag_request=7', 'up=true');
    await settle(
      'changed values',
      () => port().parent_name === 'b' && port().tag_request === 7 && port().up === true,
    );
    await nbctl('clear', 'Logical_Switch_Port', 'p', 'parent_name', 'tag_request', 'up');
    await settle(
      'cleared values',
      () => port().parent_name === null && port().tag_request === null && port().up === null,
    );
    expect(errors).toEqual([]);
  });
});
