/**
 * The `ovn-k8s-ipam` CNI IPAM plugin logic. The central IPAM in the watcher decides and records
 * the addresses on the pod (`ovn-k8s.io/ipam-allocations`); this plugin only reads them:
 *
 * - ADD waits a bounded time for the pod's allocation for CNI_IFNAME (written for this pod uid
 *   when the runtime says which uid) and returns it in the CNI result format of the config's
 *   cniVersion.
 * - DEL succeeds without doing anything: the controller releases addresses when the pod goes,
 *   so a DEL that is retried, comes late or never comes cannot free an address in use.
 * - CHECK succeeds when the allocation is still recorded; VERSION, GC and STATUS answer as the
 *   spec says.
 *
 * The ipam section: `{"type":"ovn-k8s-ipam","kubeconfig":"<path>","timeoutSeconds":30}`. It also
 * answers to Kube-OVN's `{"type":"kube-ovn","server_socket":...,"provider":...}` (the socket is not
 * used) so NADs written for Kube-OVN work with a launcher installed under that name.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  IPAM_ALLOCATIONS_ANNOTATION,
  isJsonObject,
  parseIpamAllocations,
  type InterfaceAllocation,
} from '../../multinet/index.js';
import {
  IPAM_LATEST_VERSION,
  IPAM_SUPPORTED_VERSIONS,
  IpamCniCode,
  IpamCniError,
  ipamResult,
  parseCniArgs,
} from './cni.js';

export const DEFAULT_IPAM_KUBECONFIG = '/etc/cni/net.d/ovn-k8s-ipam.d/ovn-k8s-ipam.kubeconfig';
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** Reads a pod; undefined when it does not exist. Injected so the logic is testable without an API server. */
export type PodReader = (kubeconfig: string, namespace: string, name: string) => Promise<V1Pod | undefined>;

export interface PluginDeps {
  readPod: PodReader;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  pollMs?: number;
}

export interface PluginOutput {
  exitCode: number;
  stdout: string;
}

interface IpamConf {
  cniVersion: string;
  kubeconfig: string;
  timeoutMs: number;
}

function parseConf(stdin: string, env: Readonly<Record<string, string | undefined>>): IpamConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (err) {
    throw new IpamCniError(
      IpamCniCode.DecodingFailure,
      'network config on stdin is not JSON',
      (err as Error).message,
    );
  }
  if (!isJsonObject(raw))
    throw new IpamCniError(IpamCniCode.DecodingFailure, 'network config on stdin is not a JSON object');
  const cniVersion = typeof raw.cniVersion === 'string' && raw.cniVersion ? raw.cniVersion : '0.1.0';
  if (!(IPAM_SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion)) {
    throw new IpamCniError(
      IpamCniCode.IncompatibleVersion,
      `cniVersion ${cniVersion} is not supported`,
      `supported: ${IPAM_SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const ipam = isJsonObject(raw.ipam) ? raw.ipam : {};
  const kubeconfig =
    (typeof ipam.kubeconfig === 'string' && ipam.kubeconfig) ||
    env.OVN_K8S_IPAM_KUBECONFIG ||
    env.KUBECONFIG ||
    DEFAULT_IPAM_KUBECONFIG;
  const t = ipam.timeoutSeconds;
  if (t !== undefined && (typeof t !== 'number' || !(t > 0))) {
    throw new IpamCniError(IpamCniCode.InvalidNetworkConfig, 'ipam.timeoutSeconds must be a positive number');
  }
  return { cniVersion, kubeconfig, timeoutMs: (typeof t === 'number' ? t : DEFAULT_TIMEOUT_SECONDS) * 1000 };
}

interface PodRef {
  namespace: string;
  name: string;
  uid?: string;
  ifName: string;
}

function podRef(env: Readonly<Record<string, string | undefined>>): PodRef {
  const args = parseCniArgs(env.CNI_ARGS);
  const namespace = args.K8S_POD_NAMESPACE;
  const name = args.K8S_POD_NAME;
  if (!namespace || !name) {
    throw new IpamCniError(
      IpamCniCode.InvalidEnvironment,
      'CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME',
    );
  }
  const ifName = env.CNI_IFNAME;
  if (!ifName) throw new IpamCniError(IpamCniCode.InvalidEnvironment, 'CNI_IFNAME is not set');
  return { namespace, name, ifName, ...(args.K8S_POD_UID ? { uid: args.K8S_POD_UID } : {}) };
}

/** The allocation of the pod's interface now, or undefined (not yet, or for an earlier pod of that name). */
async function currentAllocation(
  deps: PluginDeps,
  conf: IpamConf,
  ref: PodRef,
): Promise<InterfaceAllocation | undefined> {
  let pod: V1Pod | undefined;
  try {
    pod = await deps.readPod(conf.kubeconfig, ref.namespace, ref.name);
  } catch (err) {
    throw new IpamCniError(
      IpamCniCode.KubernetesApi,
      `reading pod ${ref.namespace}/${ref.name} failed`,
      (err as Error).message,
    );
  }
  if (!pod) return undefined;
  if (ref.uid && pod.metadata?.uid !== ref.uid) return undefined;
  const a = parseIpamAllocations(pod.metadata?.annotations?.[IPAM_ALLOCATIONS_ANNOTATION])[ref.ifName];
  if (!a) return undefined;
  if (a.podUid && pod.metadata?.uid && a.podUid !== pod.metadata.uid) return undefined;
  return a;
}

async function waitForAllocation(
  deps: PluginDeps,
  conf: IpamConf,
  ref: PodRef,
): Promise<InterfaceAllocation> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const until = now() + conf.timeoutMs;
  let lastError: IpamCniError | undefined;
  for (;;) {
    try {
      const a = await currentAllocation(deps, conf, ref);
      if (a) return a;
    } catch (err) {
      if (!(err instanceof IpamCniError)) throw err;
      lastError = err;
    }
    if (now() >= until) {
      if (lastError) throw lastError;
      throw new IpamCniError(
        IpamCniCode.AllocationTimeout,
        `no address allocated for ${ref.namespace}/${ref.name} interface ${ref.ifName} within ${conf.timeoutMs / 1000}s`,
        `the central IPAM in ovn-k8s-watcher writes ${IPAM_ALLOCATIONS_ANNOTATION}; check its Events on the pod`,
      );
    }
    await sleep(deps.pollMs ?? 200);
  }
}

/** Runs one plugin invocation: `env` is the process environment, `stdin` the network config. */
export async function runIpamPlugin(
  env: Readonly<Record<string, string | undefined>>,
  stdin: string,
  deps: PluginDeps,
): Promise<PluginOutput> {
  const command = env.CNI_COMMAND;
  let cniVersion = IPAM_LATEST_VERSION;
  try {
    if (command === 'VERSION') {
      return {
        exitCode: 0,
        stdout: JSON.stringify({
          cniVersion: IPAM_LATEST_VERSION,
          supportedVersions: [...IPAM_SUPPORTED_VERSIONS],
        }),
      };
    }
    const conf = parseConf(stdin, env);
    cniVersion = conf.cniVersion;
    switch (command) {
      case 'ADD': {
        const a = await waitForAllocation(deps, conf, podRef(env));
        return { exitCode: 0, stdout: JSON.stringify(ipamResult(conf.cniVersion, a)) };
      }
      case 'DEL':
      case 'GC':
      case 'STATUS':
        return { exitCode: 0, stdout: '' };
      case 'CHECK': {
        const ref = podRef(env);
        const a = await currentAllocation(deps, conf, ref);
        if (!a) {
          throw new IpamCniError(
            IpamCniCode.TryAgainLater,
            `no address recorded for ${ref.namespace}/${ref.name} interface ${ref.ifName}`,
          );
        }
        return { exitCode: 0, stdout: '' };
      }
      default:
        throw new IpamCniError(
          IpamCniCode.InvalidEnvironment,
          `CNI_COMMAND ${command ?? '(unset)'} is not ADD, DEL, CHECK, GC, STATUS or VERSION`,
        );
    }
  } catch (err) {
    const e = err instanceof IpamCniError ? err : new IpamCniError(999, (err as Error).message);
    return { exitCode: 1, stdout: JSON.stringify(e.toJson(cniVersion)) };
  }
}

/** The default PodReader: @kubernetes/client-node over the kubeconfig file (loaded on first use). */
export const kubeconfigPodReader: PodReader = async (kubeconfig, namespace, name) => {
  const { CoreV1Api } = await import('@kubernetes/client-node');
  const { resolveConnection } = await import('../../k8s/connection.js');
  const { httpStatusOf } = await import('../../k8s/errors.js');
  const { kubeConfig } = resolveConnection({ flags: { kubeconfig }, env: {} });
  const api = kubeConfig.makeApiClient(CoreV1Api);
  try {
    return await api.readNamespacedPod({ namespace, name });
  } catch (err) {
    if (httpStatusOf(err) === 404) return undefined;
    throw err;
  }
};
