#!/usr/bin/env node
/**
 * `ovn-k8s-watcher --overlay`: turns Kubernetes nodes, pods and services into the OVN logical
 * network (src/watcher), run as a production service (src/watcher/service-wiring.ts): foreground
 * or --detach, --pidfile, --log-file reopened on SIGHUP, a control socket, sd_notify, metrics,
 * leader election. Settings come from flags > environment > the INI file > the local
 * Open_vSwitch external_ids > defaults (`ovn-k8s-util config` prints them). Flags are parsed and
 * checked here; every failure before the watcher runs is one line on stderr and exit status 1.
 */
import { Command, CommanderError, Option } from 'commander';
import type { ConfigKey } from '../config/keys.js';
import { parseClusterSubnets, parseCidr } from '../ipam/cidr.js';
import { DEFAULT_CLUSTER_SUBNET } from '../ovn/names.js';

interface WatcherFlags extends Record<string, unknown> {
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
  clusterSubnets?: string[];
  serviceCidr?: string[];
  joinSubnet?: string[];
  logLevel?: string;
  detach?: boolean;
  pidfile?: string | boolean;
  logFile?: string | boolean;
  ctlSocket?: string;
  configFile?: string;
  ovsDb?: string;
  ovs?: boolean;
  /** false with --no-ipam-controller */
  ipamController?: boolean;
}

class FlagError extends Error {
  override name = 'FlagError';
}

const list = (values: readonly string[]): string[] =>
  values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Configuration keys that have their own flags here (the rest come from addConfigFlags). */
const OWN_FLAG_KEYS: Partial<Record<ConfigKey, keyof WatcherFlags>> = {
  nb_address: 'nbAddress',
  private_key: 'nbPrivkey',
  certificate: 'nbCert',
  ca_cert: 'nbCacert',
  kubeconfig: 'kubeconfig',
  k8s_api_server: 'k8sApiServer',
  k8s_api_token: 'k8sToken',
  k8s_ca_certificate: 'k8sCacert',
  cluster_subnets: 'clusterSubnets',
  service_cidr: 'serviceCidr',
  join_subnet: 'joinSubnet',
  log_level: 'logLevel',
};
/** Keys of the configuration the watcher takes as generic `--<key>` flags. */
const CONFIG_FLAG_KEYS: readonly ConfigKey[] = [
  'metrics_address',
  'leader_election',
  'leader_election_namespace',
  'leader_election_lease_name',
  'leader_election_identity',
  'lease_duration',
  'renew_deadline',
  'retry_period',
  'rundir',
  'logdir',
];

async function buildProgram(): Promise<Command> {
  const { addConfigFlags } = await import('../config/flags.js');
  const { addDaemonFlags } = await import('../daemon/flags.js');
  const program = new Command('ovn-k8s-watcher')
    .description('watch Kubernetes and keep the OVN northbound database in line with it')
    .option('--overlay', 'overlay mode (the only mode implemented)')
    .addOption(new Option('--underlay').hideHelp())
    .addOption(new Option('--openstack').hideHelp())
    .option(
      '--nb-address <remote>',
      'OVN NB database [env OVN_K8S_NB_ADDRESS, OVN_NB_DB; ini nb_address; external_ids:ovn-nb] (default unix:/var/run/ovn/ovnnb_db.sock)',
    )
    .option('--nb-privkey <file>', 'TLS private key for ssl: NB addresses [ini private_key]')
    .option('--nb-cert <file>', 'TLS certificate [ini certificate]')
    .option('--nb-cacert <file>', 'TLS CA certificate [ini ca_cert]')
    .option('--nb-timeout <seconds>', 'how long start-up waits for the NB database', '10')
    .option('--k8s-timeout <seconds>', 'how long start-up waits for the Kubernetes API', '60')
    .option('--kubeconfig <file>', 'kubeconfig of the Kubernetes API [env KUBECONFIG]')
    .option('--k8s-api-server <url>', 'Kubernetes API server URL [env OVN_K8S_API_SERVER]')
    .option('--k8s-token <token>', 'bearer token for the API server [env OVN_K8S_API_TOKEN]')
    .option('--k8s-cacert <file>', 'CA certificate of the API server [ini k8s_ca_certificate]')
    .option(
      '--cluster-subnets <cidrs>',
      `cluster subnets with host prefix, comma list or repeated (default ${DEFAULT_CLUSTER_SUBNET})`,
      collect,
    )
    .option('--service-cidr <cidrs>', 'service CIDRs (comma list or repeated)', collect)
    .option('--join-subnet <cidrs>', 'join subnets, one per family (default 100.64.0.0/16)', collect)
    .option('--log-level <level>', 'pino log level (default info) [env OVN_K8S_LOG_LEVEL]')
    .option(
      '--ovs-db <remote>',
      'local Open_vSwitch database for external_ids (default unix:/var/run/openvswitch/db.sock)',
    )
    .option('--no-ovs', 'do not read the local Open_vSwitch external_ids')
    .option('--no-ipam-controller', 'do not run the central IPAM controller of secondary networks');
  addDaemonFlags(program);
  addConfigFlags(program, CONFIG_FLAG_KEYS);
  return program.exitOverride().configureOutput({ writeErr: () => undefined });
}

/** Set in the background copy of --detach: errors go to the waiting parent, not our stderr. */
const REPORT_FD_ENV = 'OVN_K8S_DAEMON_REPORT_FD';

let failed = false;
/** The one error line (before the service runs; after that src/daemon reports failures). */
function fail(message: string): void {
  if (failed) return;
  failed = true;
  const text = message.replace(/\s*\n[\s\S]*$/, '');
  const fd = process.env[REPORT_FD_ENV];
  if (fd !== undefined) {
    void import('node:fs').then(({ writeSync }) => {
      try {
        writeSync(Number(fd), `${JSON.stringify({ ok: false, error: text })}\n`);
      } catch {
        /* the parent is gone */
      }
      process.exit(1);
    });
    return;
  }
  process.stderr.write(`ovn-k8s-watcher: ${text}\n`);
  process.exit(1);
}

function checkCidrs(flag: string, cidrs: readonly string[]): void {
  for (const c of cidrs) {
    try {
      parseCidr(c);
    } catch (err) {
      throw new FlagError(`${flag}: ${(err as Error).message}`);
    }
  }
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new FlagError(`${flag}: not a positive number: ${value}`);
  return n;
}

async function main(): Promise<void> {
  const program = await buildProgram();
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
  const nbTimeout = positive('--nb-timeout', f.nbTimeout);
  const k8sTimeout = positive('--k8s-timeout', f.k8sTimeout);

  const { configFlagsFrom, resolveConfig } = await import('../config/index.js');
  const flags: Partial<Record<ConfigKey, string>> = configFlagsFrom(f);
  for (const [key, prop] of Object.entries(OWN_FLAG_KEYS) as [ConfigKey, keyof WatcherFlags][]) {
    const v = f[prop];
    if (typeof v === 'string') flags[key] = v;
    else if (Array.isArray(v)) flags[key] = list(v as string[]).join(',');
  }
  const cfg = await resolveConfig({
    flags,
    ...(f.configFile ? { configFile: f.configFile, configFileExplicit: true } : {}),
    ...(f.ovsDb ? { ovsDb: f.ovsDb } : {}),
    readOvs: f.ovs !== false,
  });
  const logLevel = cfg.string('log_level') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    throw new FlagError(`--log-level: unknown level "${logLevel}"`);
  const { parseElectionMode } = await import('../ha/elector.js');
  try {
    parseElectionMode(cfg.string('leader_election'));
  } catch (err) {
    throw new FlagError(`--leader-election: ${(err as Error).message}`);
  }
  const clusterSubnets = cfg.list('cluster_subnets');
  if (clusterSubnets.length === 0) clusterSubnets.push(DEFAULT_CLUSTER_SUBNET);
  try {
    parseClusterSubnets(clusterSubnets);
  } catch (err) {
    throw new FlagError(`--cluster-subnets: ${(err as Error).message}`);
  }
  checkCidrs('--service-cidr', cfg.list('service_cidr'));
  const joinSubnets =
    f.joinSubnet || cfg.source('join_subnet')?.source !== 'default' ? cfg.list('join_subnet') : undefined;
  checkCidrs('--join-subnet', joinSubnets ?? []);

  // loaded only now: a bad flag is reported without loading the Kubernetes client
  const { resolveConnection } = await import('../k8s/connection.js');
  const { DEFAULT_NB_ADDRESS } = await import('../watcher/nb-connect.js');
  const { runWatcherService } = await import('../watcher/service-wiring.js');
  const nbRemotes = cfg.string('nb_address') ?? process.env.OVN_NB_DB ?? DEFAULT_NB_ADDRESS;
  const ssl = nbRemotes.split(',').some((r) => r.trim().startsWith('ssl:'));
  const tls = ssl
    ? {
        privateKey: cfg.string('private_key')!,
        certificate: cfg.string('certificate')!,
        caCert: cfg.string('ca_cert')!,
      }
    : undefined;
  const set = (key: ConfigKey): string | undefined =>
    cfg.source(key)?.source === 'default' ? undefined : cfg.string(key);
  const kubeconfig = set('kubeconfig');
  const server = set('k8s_api_server');
  const token = set('k8s_api_token');
  const caCert = set('k8s_ca_certificate');
  const { kubeConfig } = resolveConnection({
    flags: {
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(server ? { server } : {}),
      ...(token ? { token } : {}),
      ...(caCert ? { caCert } : {}),
    },
  });
  await runWatcherService({
    config: cfg,
    daemon: {
      ...(f.detach ? { detach: true } : {}),
      ...(f.pidfile !== undefined ? { pidfile: f.pidfile } : {}),
      ...(f.logFile !== undefined ? { logFile: f.logFile } : {}),
      ...(f.ctlSocket ? { ctlSocket: f.ctlSocket } : {}),
    },
    nbRemotes,
    ...(tls ? { tls } : {}),
    nbOpenTimeoutMs: nbTimeout * 1000,
    k8sSyncTimeoutMs: k8sTimeout * 1000,
    kubeConfig,
    clusterSubnets,
    ...(joinSubnets ? { joinSubnets } : {}),
    ipamController: f.ipamController !== false,
  });
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
