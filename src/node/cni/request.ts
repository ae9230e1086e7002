/**
 * One CNI invocation decoded: the CNI_* environment, the Kubernetes arguments in CNI_ARGS and the
 * network configuration on stdin, each failure mapped to its CNI error code.
 */
import { DEFAULT_MTU, type OvnCniNetConf } from '../minion-init.js';
import { DEFAULT_OVS_ADDRESS } from '../ovs-config.js';
import { CniCode, CniError, isSupportedVersion, type CniVersion } from './types.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifname: string;
  /** K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID, ... */
  args: Record<string, string>;
}

export interface PluginConfig {
  cniVersion: CniVersion;
  name: string;
  ovsAddress: string;
  bridge: string;
  mtu: number;
  datapathType?: string;
  kubeconfig?: string;
  k8sApiServer?: string;
  annotationTimeoutMs: number;
  waitForOvnInstalled: boolean;
  ovnInstalledTimeoutMs: number;
  prevResult?: unknown;
  /**
   * `<ns>/<nad>` when the config is a NAD's (a secondary OVN network, Multus calls once per
   * attachment with CNI_IFNAME net1, ...); absent for the cluster's default network
   */
  netAttachDefName?: string;
}

/** `K=V;K=V` (CNI_ARGS). */
export function parseCniArgs(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? '').split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CniError(CniCode.InvalidEnvironment, `CNI_ARGS entry "${part}" is not KEY=VALUE`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export function parseCommand(env: NodeJS.ProcessEnv): CniCommand {
  const c = env.CNI_COMMAND;
  if (c === 'ADD' || c === 'DEL' || c === 'CHECK' || c === 'VERSION') return c;
  throw new CniError(
    CniCode.InvalidEnvironment,
    c ? `unknown CNI_COMMAND "${c}" (expected ADD, DEL, CHECK or VERSION)` : 'CNI_COMMAND is not set',
  );
}

export function parseEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = parseCommand(env);
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new CniError(CniCode.InvalidEnvironment, `${name} is not set (required for ${command})`);
    return v;
  };
  const containerId = need('CNI_CONTAINERID');
  // DEL may come after the namespace is gone; the runtime then passes an empty CNI_NETNS
  const netns = command === 'DEL' ? (env.CNI_NETNS ?? '') : need('CNI_NETNS');
  const ifname = need('CNI_IFNAME');
  if (ifname.length > 15 || /[\s/]/.test(ifname))
    throw new CniError(CniCode.InvalidEnvironment, `CNI_IFNAME "${ifname}" is not a valid interface name`);
  return { command, containerId, netns, ifname, args: parseCniArgs(env.CNI_ARGS) };
}

function num(v: unknown, field: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new CniError(
      CniCode.InvalidNetworkConfig,
      `network config field "${field}" must be a non-negative number`,
    );
  return v;
}

function str(v: unknown, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw new CniError(CniCode.InvalidNetworkConfig, `network config field "${field}" must be a string`);
  return v;
}

/** Parses the configuration on stdin. */
export function parseConfig(stdin: string): PluginConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(
      CniCode.DecodingFailure,
      'the network configuration on stdin is not valid JSON',
      (err as Error).message,
    );
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new CniError(CniCode.DecodingFailure, 'the network configuration on stdin must be a JSON object');
  const c = raw as Partial<OvnCniNetConf> & Record<string, unknown>;
  const version = c.cniVersion;
  if (typeof version !== 'string')
    throw new CniError(CniCode.InvalidNetworkConfig, 'the network configuration has no "cniVersion"');
  if (!isSupportedVersion(version))
    throw new CniError(
      CniCode.IncompatibleVersion,
      `CNI version ${version} is not supported; this plugin speaks 0.3.0, 0.3.1, 0.4.0 and 1.0.0`,
    );
  const name = str(c.name, 'name');
  if (!name) throw new CniError(CniCode.InvalidNetworkConfig, 'the network configuration has no "name"');
  const mtu = num(c.mtu, 'mtu', DEFAULT_MTU);
  if (mtu < 576 || mtu > 65535)
    throw new CniError(CniCode.InvalidNetworkConfig, `mtu ${mtu} is out of range 576..65535`);
  const cfg: PluginConfig = {
    cniVersion: version,
    name,
    ovsAddress: str(c.ovsAddress, 'ovsAddress') ?? DEFAULT_OVS_ADDRESS,
    bridge: str(c.bridge, 'bridge') ?? 'br-int',
    mtu,
    annotationTimeoutMs: num(c.annotationTimeoutMs, 'annotationTimeoutMs', 30_000),
    waitForOvnInstalled: c.waitForOvnInstalled === true,
    ovnInstalledTimeoutMs: num(c.ovnInstalledTimeoutMs, 'ovnInstalledTimeoutMs', 20_000),
  };
  const dp = str(c.datapathType, 'datapathType');
  if (dp) cfg.datapathType = dp;
  const kc = str(c.kubeconfig, 'kubeconfig');
  if (kc) cfg.kubeconfig = kc;
  const server = str(c.k8sApiServer, 'k8sApiServer');
  if (server) cfg.k8sApiServer = server;
  if (c.prevResult !== undefined) cfg.prevResult = c.prevResult;
  const nad = str(c.netAttachDefName, 'netAttachDefName');
  if (nad) {
    if (!/^[^/\s]+\/[^/\s]+$/.test(nad))
      throw new CniError(CniCode.InvalidNetworkConfig, `netAttachDefName "${nad}" is not <namespace>/<name>`);
    cfg.netAttachDefName = nad;
  }
  return cfg;
}
