/**
 * Every configuration key, with where it can come from. The first group are the original
 * ovn-kubernetes `[default]` keys of /etc/openvswitch/ovn_k8s.conf with their original defaults;
 * the rest are ours. Layer order (highest first): flag, environment, INI file, the local
 * Open_vSwitch external_ids, default.
 */
export type ConfigKind = 'string' | 'int' | 'list' | 'bool';

export interface ConfigKeySpec {
  /** INI key in `[default]`, also the key of the effective configuration */
  key: string;
  kind: ConfigKind;
  description: string;
  default?: string;
  /** environment variable (default OVN_K8S_<KEY>) */
  env?: string;
  /** Open_vSwitch external_ids key that supplies it, as the original's operator set them */
  ovsExternalId?: string;
  /** masked when printed */
  secret?: boolean;
}

export const CONFIG_KEYS = [
  // ---- the original's [default] keys (ovn_k8s/common/config.py) --------------------------------
  { key: 'mtu', kind: 'int', default: '1400', description: 'MTU of pod interfaces and the management port' },
  {
    key: 'conntrack_zone',
    kind: 'int',
    default: '64000',
    description: 'conntrack zone of the gateway helper',
  },
  {
    key: 'ovn_mode',
    kind: 'string',
    default: 'overlay',
    description: 'overlay (underlay is not implemented)',
  },
  {
    key: 'log_path',
    kind: 'string',
    default: '/var/log/openvswitch/ovn-k8s-cni-overlay.log',
    description: 'CNI plugin log file',
  },
  {
    key: 'unix_socket',
    kind: 'string',
    default: '/var/run/openvswitch/ovnnb_db.sock',
    description: 'local NB database socket (used when nb_address is unset)',
  },
  {
    key: 'cni_conf_path',
    kind: 'string',
    default: '/etc/cni/net.d',
    description: 'directory of the CNI network configuration',
  },
  {
    key: 'cni_link_path',
    kind: 'string',
    default: '/opt/cni/bin/',
    description: 'directory of CNI plugin binaries',
  },
  { key: 'cni_plugin', kind: 'string', default: 'ovn-k8s-cni-overlay', description: 'CNI plugin name' },
  {
    key: 'private_key',
    kind: 'string',
    default: '/etc/openvswitch/ovncontroller-privkey.pem',
    description: 'TLS private key for ssl: NB remotes',
  },
  {
    key: 'certificate',
    kind: 'string',
    default: '/etc/openvswitch/ovncontroller-cert.pem',
    description: 'TLS certificate for ssl: NB remotes',
  },
  {
    key: 'ca_cert',
    kind: 'string',
    default: '/etc/openvswitch/ovnnb-ca.cert',
    description: 'CA certificate of the NB database',
  },
  {
    key: 'k8s_ca_certificate',
    kind: 'string',
    default: '/etc/openvswitch/k8s-ca.crt',
    description: 'CA certificate file of the Kubernetes API server',
  },
  {
    key: 'rundir',
    kind: 'string',
    default: '',
    description: 'runtime directory (pidfiles, control sockets; empty = /var/run/openvswitch)',
  },
  { key: 'logdir', kind: 'string', default: '', description: 'log directory (empty = /var/log/openvswitch)' },
  // ---- ours ------------------------------------------------------------------------------------
  {
    key: 'nb_address',
    kind: 'string',
    ovsExternalId: 'ovn-nb',
    description: 'NB database remotes (tcp:IP:PORT,ssl:IP:PORT,unix:PATH)',
  },
  { key: 'sb_address', kind: 'string', ovsExternalId: 'ovn-remote', description: 'SB database remotes' },
  {
    key: 'cluster_subnets',
    kind: 'list',
    description: 'cluster pod subnets, CIDR[/HOSTPREFIX], comma separated',
  },
  { key: 'service_cidr', kind: 'list', description: 'Kubernetes service CIDRs, comma separated' },
  { key: 'join_subnet', kind: 'string', default: '100.64.0.0/16', description: 'subnet of the join switch' },
  { key: 'node_name', kind: 'string', description: 'this node (node side) or the master node (master-init)' },
  { key: 'system_id', kind: 'string', ovsExternalId: 'system-id', description: 'chassis name of this host' },
  { key: 'kubeconfig', kind: 'string', env: 'KUBECONFIG', description: 'kubeconfig file' },
  {
    key: 'k8s_api_server',
    kind: 'string',
    env: 'OVN_K8S_API_SERVER',
    ovsExternalId: 'k8s-api-server',
    description: 'Kubernetes API server URL (http:// when no scheme)',
  },
  {
    key: 'k8s_api_token',
    kind: 'string',
    env: 'OVN_K8S_API_TOKEN',
    ovsExternalId: 'k8s-api-token',
    secret: true,
    description: 'bearer token for the API server',
  },
  {
    key: 'k8s_ca_certificate_data',
    kind: 'string',
    ovsExternalId: 'k8s-ca-certificate',
    description: 'PEM of the API server CA (literal \\n for newlines)',
  },
  {
    key: 'metrics_address',
    kind: 'string',
    default: '127.0.0.1:9410',
    description: 'HOST:PORT of /metrics, /healthz, /readyz (empty disables)',
  },
  {
    key: 'log_level',
    kind: 'string',
    default: 'info',
    description: 'fatal, error, warn, info, debug or trace',
  },
  {
    key: 'leader_election',
    kind: 'string',
    default: 'none',
    description:
      'none, lease (Kubernetes Lease) or ovsdb-lock (NB database lock); unset: lease inside a Kubernetes pod, none elsewhere',
  },
  {
    key: 'leader_election_namespace',
    kind: 'string',
    env: 'OVN_K8S_LEADER_ELECTION_NAMESPACE',
    default: 'ovn-kubernetes',
    description: 'namespace of the Lease',
  },
  {
    key: 'leader_election_lease_name',
    kind: 'string',
    default: 'ovn-k8s-watcher',
    description: 'name of the Lease or of the OVSDB lock',
  },
  {
    key: 'leader_election_identity',
    kind: 'string',
    env: 'POD_NAME',
    description: 'holder identity (default hostname_pid)',
  },
  {
    key: 'lease_duration',
    kind: 'int',
    default: '15',
    description: 'seconds a standby waits before taking over a lease that stopped renewing',
  },
  {
    key: 'renew_deadline',
    kind: 'int',
    default: '10',
    description: 'seconds the leader keeps trying to renew before giving up leadership',
  },
  {
    key: 'retry_period',
    kind: 'int',
    default: '2',
    description: 'seconds between lease acquire/renew attempts',
  },
] as const satisfies readonly ConfigKeySpec[];

export type ConfigKey = (typeof CONFIG_KEYS)[number]['key'];

const BY_KEY = new Map<string, ConfigKeySpec>(CONFIG_KEYS.map((k) => [k.key, k]));

export function keySpec(key: string): ConfigKeySpec | undefined {
  return BY_KEY.get(key);
}

export function envNameOf(spec: ConfigKeySpec): string {
  return spec.env ?? `OVN_K8S_${spec.key.toUpperCase()}`;
}

/** `nb_address` -> `--nb-address` */
export function flagNameOf(spec: ConfigKeySpec): string {
  return `--${spec.key.replace(/_/g, '-')}`;
}

/** commander's camelCase property of the flag: `nb_address` -> `nbAddress` */
export function flagPropertyOf(spec: ConfigKeySpec): string {
  return spec.key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
