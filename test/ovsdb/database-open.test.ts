/**
 * OvsdbDatabase.open against a real ovsdb-server: a data monitor the server refuses for a reason
 * that never changes (unknown column, unknown condition function, a value outside a column's
 * constraints) fails the open at once with the server's error; a selection that does not fit the
 * schema fails without asking the server; a server that is not there yet is waited for.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  DatabaseNotReadyError,
  InvalidMonitorRequestError,
  MonitorRejectedError,
  OvsdbDatabase,
  type DatabaseLogger,
  type OvsdbDatabaseOptions,
} from '../../src/ovsdb/database.js';
import { startOvsdbServer, type OvsdbServer } from '../../src/runtime/ovsdb-server.js';
import { freePort, waitFor } from '../../src/runtime/process.js';
import { tempDir } from '../helpers/tmp.js';

/** A logger that keeps the messages, to count connection attempts. */
function recordingLogger(): DatabaseLogger & { messages: string[] } {
  const messages: string[] = [];
  const keep = (_o: object, msg: string) => void messages.push(msg);
  return { messages, debug: keep, info: keep, warn: keep, error: keep };
}

const RETRY = 'OVSDB server not usable, trying the next one';

/** open() with a budget far beyond the test's: a retried refusal would end in DatabaseNotReadyError. */
async function openError(opts: OvsdbDatabaseOptions): Promise<unknown> {
  try {
    const db = await OvsdbDatabase.open({
      openTimeoutMs: 5_000,
      backoff: { initialMs: 20, maxMs: 50 },
      ...opts,
    });
    await db.close();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('OvsdbDatabase.open with a monitor request the server refuses', () => {
  const tmp = tempDir('dbo-');
  let server: OvsdbServer | undefined;
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });
  const nb = async () => (server ??= await startOvsdbServer({ dir: tmp.dir, name: 'nb' }));

  it('a where clause on an unknown column fails at once with the server error and details', async () => {
    const log = recordingLogger();
    const err = await openError({
      remotes: (await nb()).unix,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: { columns: ['name'], where: [['nosuch', '==', 'x']] } },
      logger: log,
    });
    expect(err).toBeInstanceOf(MonitorRejectedError);
    expect(err).toBeInstanceOf(InvalidMonitorRequestError);
    expect(err).not.toBeInstanceOf(DatabaseNotReadyError);
    const e = err as MonitorRejectedError;
    expect(e.error).toBe('unknown column');
    expect(e.details).toBe('No column nosuch in table Logical_Switch.');
    expect(e.syntax).toBe('["nosuch","==","x"]');
    expect(e.remote).toBe(server!.unix);
    expect(e.database).toBe('OVN_Northbound');
    expect(e.message).toContain('unknown column: No column nosuch in table Logical_Switch.');
    // one attempt, no retries
    expect(log.messages.filter((m) => m === RETRY)).toEqual([]);
  });

  it.each([
    {
      what: 'an unknown condition function',
      where: [['name', '~~', 'x']],
      table: 'Logical_Switch',
      columns: ['name'],
      error: 'unknown function',
      details: 'No function named ~~.',
    },
    {
      what: 'a value outside the column constraints',
      where: [['direction', '==', 'sideways']],
      table: 'ACL',
      columns: ['direction'],
      error: 'constraint violation',
      details: 'sideways is not one of the allowed values ([from-lport, to-lport])',
    },
    {
      what: 'a value of the wrong type',
      where: [['name', '==', 5]],
      table: 'Logical_Switch',
      columns: ['name'],
      error: 'syntax error',
      details: 'expected string',
    },
  ])(
    'a malformed where clause ($what) fails with "$error"',
    async ({ where, table, columns, error, details }) => {
      const err = await openError({
        remotes: (await nb()).tcp,
        database: 'OVN_Northbound',
        tables: { [table]: { columns, where } },
      });
      expect(err).toBeInstanceOf(MonitorRejectedError);
      expect((err as MonitorRejectedError).error).toBe(error);
      expect((err as MonitorRejectedError).details).toBe(details);
    },
  );

  it('a selection the schema lacks (column, table) fails before asking the server', async () => {
    const remotes = (await nb()).unix;
    const column = await openError({
      remotes,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: { columns: ['name', 'nosuch'] } },
    });
    expect(column).toBeInstanceOf(InvalidMonitorRequestError);
    expect(column).not.toBeInstanceOf(MonitorRejectedError);
    expect((column as Error).message).toMatch(/invalid monitor request: .*nosuch/);
    const table = await openError({ remotes, database: 'OVN_Northbound', tables: { No_Such_Table: {} } });
    expect(table).toBeInstanceOf(InvalidMonitorRequestError);
    expect((table as Error).message).toMatch(/No_Such_Table/);
  });

  it('a valid selection on the same server still opens (the refusals above changed nothing)', async () => {
    const db = await OvsdbDatabase.open({
      remotes: (await nb()).unix,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: { columns: ['name'], where: [['name', '==', 'x']] } },
      openTimeoutMs: 20_000,
    });
    try {
      expect(db.isConsistent).toBe(true);
    } finally {
      await db.close();
    }
  });
});

describe('OvsdbDatabase.open waits for a server that is not there yet', () => {
  const tmp = tempDir('dbl-');
  let server: OvsdbServer | undefined;
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it('connection refused is retried until the server appears, then the handle opens', async () => {
    const port = await freePort();
    const log = recordingLogger();
    const opening = OvsdbDatabase.open({
      remotes: `tcp:127.0.0.1:${port}`,
      database: 'OVN_Northbound',
      tables: { Logical_Switch: { columns: ['name'] } },
      backoff: { initialMs: 20, maxMs: 100 },
      openTimeoutMs: 30_000,
      logger: log,
    });
    // the handle must have met the missing server (refused twice) before it comes up
    await waitFor('two refused attempts', async () => log.messages.filter((m) => m === RETRY).length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    server = await startOvsdbServer({ dir: tmp.dir, name: 'nb', port });
    const db = await opening;
    try {
      expect(db.isConsistent).toBe(true);
      await db.transact([{ op: 'insert', table: 'Logical_Switch', row: { name: 'late' } }]);
      const sw = await db.list('Logical_Switch');
      expect(sw.map((r) => r.name)).toContain('late');
    } finally {
      await db.close();
    }
  });
});
