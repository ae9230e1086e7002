#!/usr/bin/env node
/**
 * `ovn-k8s-watcher --overlay`: turns Kubernetes nodes, pods and services into the OVN logical
 * network (src/watcher). Flags are parsed and checked here; every failure before the watcher runs
 * is one line on stderr and exit status 1.
 */
import { Command, CommanderError, Option } from 'commander';
import { parseClusterSubnets } from '../ipam/cidr.js';
import { parseCidr } from '../ipam/cidr.js';
import { DEFAULT_CLUSTER_SUBNET } from '../ovn/names.js';

interface WatcherFlags {
  overlay?: boolean;
  underlay?: boolean;
  openstack?: boolean;
  nbAddress?: string;
  nbPrivkey?: string;
  nbCert?: string;
  nbCacert?: string;
  nbTimeout: string;
  k8sTimeout: string;
  kubeconfig?: string;
  k8sApiServer?: string;
  k8sToken?: string;
  k8sCacert?: string;
  clusterSubnets: string[];
  serviceCidr: string[];
  joinSubnet?: string[];
  pidfile?: string | boolean;
  logFile?: string | boolean;
  logLevel: string;
  detach?: boolean;
}

class FlagError extends Error {
  override name = 'FlagError';
}

const rundir = () => process.env.OVN_RUNDIR ?? '/var/run/ovn';
const logdir = () => process.env.OVN_LOGDIR ?? '/var/log/ovn';
const list = (values: string[]): string[] =>
  values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

const program = new Command('ovn-k8s-watcher')
  .description('watch Kubernetes and keep the OVN northbound database in line with it')
  .option('--overlay', 'overlay mode (the only mode implemented)')
  .addOption(new Option('--underlay').hideHelp())
  .addOption(new Option('--openstack').hideHelp())
  .option('--nb-address <remote>', 'OVN NB database (default $OVN_NB_DB or unix:/var/run/ovn/ovnnb_db.sock)')
  .option('--nb-privkey <file>', 'TLS private key for ssl: NB addresses')
  .option('--nb-cert <file>', 'TLS certificate')
  .option('--nb-cacert <file>', 'TLS CA certificate')
  .option('--nb-timeout <seconds>', 'how long start-up waits for the NB database', '10')
  .option('--k8s-timeout <seconds>', 'how long start-up waits for the Kubernetes API', '60')
  .option('--kubeconfig <file>', 'kubeconfig of the Kubernetes API')
  .option('--k8s-api-server <url>', 'Kubernetes API server URL')
  .option('--k8s-token <token>', 'bearer token for the API server')
  .option('--k8s-cacert <file>', 'CA certificate of the API server')
  .option(
    '--cluster-subnets <cidrs>',
    `cluster subnets with host prefix, comma list or repeated (default ${DEFAULT_CLUSTER_SUBNET})`,
    collect,
  )
  .option('--service-cidr <cidrs>', 'service CIDRs (comma list or repeated)', collect)
  .option('--join-subnet <cidrs>', 'join subnets, one per family (default 100.64.0.0/16)', collect)
  .option('--pidfile [file]', 'write the pid here (default $OVN_RUNDIR/ovn-k8s-watcher.pid)')
  .option(
    '--log-file [file]',
    'JSON logs to this file (default $OVN_LOGDIR/ovn-k8s-watcher.log); stdout otherwise',
  )
  .option('--log-level <level>', 'pino log level', 'info')
  .option('--detach', 'run in the background once start-up succeeded')
  .exitOverride()
  .configureOutput({ writeErr: () => undefined });

/** set when started by --detach: the parent waits for our verdict on the IPC channel */
const DETACHED_ENV = 'OVN_K8S_WATCHER_DETACHED';

let failed = false;
/** The one error line; a --detach child hands it to the waiting parent instead (stderr is closed). */
function fail(message: string): void {
  if (failed) return;
  failed = true;
  const text = message.replace(/\s*\n[\s\S]*$/, '');
  if (process.env[DETACHED_ENV] === '1' && process.send) {
    process.send({ ok: false, error: text }, () => process.exit(1));
    return;
  }
  process.stderr.write(`ovn-k8s-watcher: ${text}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  try {
    program.parse(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
      fail(err.message.replace(/^error: /, ''));
      return;
    }
    throw err;
  }
  const f = program.opts<WatcherFlags>();
  if (f.underlay || f.openstack)
    throw new FlagError(`--${f.underlay ? 'underlay' : 'openstack'} mode is not implemented`);
  if (!f.overlay) throw new FlagError('--overlay is required (the only mode implemented)');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(f.logLevel))
    throw new FlagError(`--log-level: unknown level "${f.logLevel}"`);
  const clusterSubnets = list(f.clusterSubnets ?? [DEFAULT_CLUSTER_SUBNET]);
  try {
    parseClusterSubnets(clusterSubnets);
  } catch (err) {
    throw new FlagError(`--cluster-subnets: ${(err as Error).message}`);
  }
  for (const c of list(f.serviceCidr ?? [])) {
    try {
      parseCidr(c);
    } catch (err) {
      throw new FlagError(`--service-cidr: ${(err as Error).message}`);
    }
  }
  const joinSubnets = f.joinSubnet ? list(f.joinSubnet) : undefined;
  for (const c of joinSubnets ?? []) {
    try {
      parseCidr(c);
    } catch (err) {
      throw new FlagError(`--join-subnet: ${(err as Error).message}`);
    }
  }
  const timeout = Number(f.nbTimeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new FlagError(`--nb-timeout: not a positive number: ${f.nbTimeout}`);
  const k8sTimeout = Number(f.k8sTimeout);
  if (!Number.isFinite(k8sTimeout) || k8sTimeout <= 0)
    throw new FlagError(`--k8s-timeout: not a positive number: ${f.k8sTimeout}`);
  // loaded only now: a bad flag is reported without loading the Kubernetes client
  const { resolveConnection } = await import('../k8s/connection.js');
  const { nbAddressOf, tlsOf } = await import('../watcher/nb-connect.js');
  const { detach, runDaemon } = await import('../watcher/daemon.js');
  const nbRemotes = nbAddressOf(f);
  const tls = tlsOf(f, nbRemotes);
  const { kubeConfig } = resolveConnection({
    flags: {
      ...(f.kubeconfig ? { kubeconfig: f.kubeconfig } : {}),
      ...(f.k8sApiServer ? { server: f.k8sApiServer } : {}),
      ...(f.k8sToken ? { token: f.k8sToken } : {}),
      ...(f.k8sCacert ? { caCert: f.k8sCacert } : {}),
    },
  });
  if (f.detach && process.env[DETACHED_ENV] !== '1') process.exit(await detach(process.argv));
  const pidfile = f.pidfile === true ? `${rundir()}/ovn-k8s-watcher.pid` : f.pidfile || undefined;
  const logFile = f.logFile === true ? `${logdir()}/ovn-k8s-watcher.log` : f.logFile || undefined;
  await runDaemon({
    nbRemotes,
    ...(tls ? { tls } : {}),
    nbOpenTimeoutMs: timeout * 1000,
    k8sSyncTimeoutMs: k8sTimeout * 1000,
    kubeConfig,
    clusterSubnets,
    ...(joinSubnets ? { joinSubnets } : {}),
    ...(pidfile ? { pidfile } : {}),
    ...(logFile ? { logFile } : {}),
    logLevel: f.logLevel,
  });
  process.exit(0);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
