/**
 * A tiny daemon for the daemon-layer tests: `node --import tsx fixture-daemon.ts [--detach]
 * [--pidfile=F] [--log-file=F] [--ctl=F] [--fail-startup] [--crash-startup]`.
 */
import { startDaemon } from '../../src/daemon/index.js';

function flag(name: string): string | undefined {
  const a = process.argv.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (!a) return undefined;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : '';
}

const d = await startDaemon({
  name: 'fixture-daemon',
  detach: flag('detach') !== undefined,
  pidfile: flag('pidfile'),
  logFile: flag('log-file'),
  controlSocket: flag('ctl'),
});
let resyncs = 0;
d.control?.register('resync', () => {
  resyncs++;
  d.logger.info({ resyncs }, 'resync requested');
  return { resyncs };
});
d.setStatusProvider(() => ({ resyncs, leader: true }));
d.logger.debug('debug line before ready');
if (flag('fail-startup') !== undefined) d.fail(new Error('cannot reach the database at unix:/nonexistent'));
if (flag('crash-startup') !== undefined) process.exit(7);
await new Promise((r) => setTimeout(r, 50));
await d.ready('synced');
// stay alive until told to stop
setInterval(() => d.logger.debug('tick'), 200);
