/** The seeds' custom resources (valid) and broken variants (invalid), as YAML documents. */
export const VALID_CRS: Record<string, string> = {
  // seed 004: Kube-OVN Subnet for a macvlan attachment
  'subnet-macvlan': `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: macvlan
spec:
  protocol: IPv4
  provider: macvlan.default
  cidrBlock: 172.17.0.0/16
  gateway: 172.17.0.1
  excludeIps:
  - 172.17.0.0..172.17.0.10
`,
  'subnet-dual': `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: dual
spec:
  protocol: Dual
  cidrBlock: 10.16.0.0/16,fd00:10:16::/64
  namespaces: [ns1]
`,
  // seed 000: Spiderpool pool and the ovs-cni SpiderMultusConfig
  'ippool-test': `apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderIPPool
metadata:
  name: ippool-test
spec:
  ips:
  - "172.18.30.131-172.18.30.140"
  subnet: 172.18.0.0/16
  gateway: 172.18.0.1
  multusName:
  - kube-system/ovs-conf
`,
  'ovs-conf': `apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderMultusConfig
metadata:
  name: ovs-conf
  namespace: kube-system
spec:
  cniType: ovs
  ovs:
    bridge: "br1"
`,
  'macvlan-nad': `apiVersion: "k8s.cni.cncf.io/v1"
kind: NetworkAttachmentDefinition
metadata:
  name: macvlan
  namespace: default
spec:
  config: '{
      "cniVersion": "0.3.0",
      "type": "macvlan",
      "master": "eth0",
      "mode": "bridge",
      "ipam": {
        "type": "kube-ovn",
        "server_socket": "/run/openvswitch/kube-ovn-daemon.sock",
        "provider": "macvlan.default"
      }
    }'
`,
  'empty-nad': `apiVersion: "k8s.cni.cncf.io/v1"
kind: NetworkAttachmentDefinition
metadata:
  name: macvlan-conf-2
  namespace: default
`,
};

/** name -> [YAML, the field the API server must name in its refusal] */
export const INVALID_CRS: Record<string, [string, string]> = {
  'subnet-no-cidr': [
    `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: no-cidr
spec:
  protocol: IPv4
`,
    'spec.cidrBlock: Required value',
  ],
  'subnet-bad-protocol': [
    `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: bad-protocol
spec:
  protocol: IPv5
  cidrBlock: 10.0.0.0/24
`,
    'spec.protocol: Unsupported value: "IPv5"',
  ],
  'subnet-bad-exclude': [
    `apiVersion: kubeovn.io/v1
kind: Subnet
metadata:
  name: bad-exclude
spec:
  cidrBlock: 10.0.0.0/24
  excludeIps: [10.0.0.1-10.0.0.9]
`,
    'spec.excludeIps[0]',
  ],
  'pool-bad-version': [
    `apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderIPPool
metadata:
  name: bad-version
spec:
  ipVersion: 5
  subnet: 172.18.0.0/16
  vlan: 5000
`,
    'spec.ipVersion: Unsupported value: 5',
  ],
  'pool-subnet-not-cidr': [
    `apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderIPPool
metadata:
  name: not-cidr
spec:
  subnet: 172.18.0.0
  ips: ["172.18.30.131-172.18.30.140"]
`,
    'spec.subnet: Invalid value',
  ],
  'smc-bad-cnitype': [
    `apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderMultusConfig
metadata:
  name: bad-type
  namespace: kube-system
spec:
  cniType: bridge
`,
    'spec.cniType: Unsupported value: "bridge"',
  ],
  'smc-ovs-without-bridge': [
    `apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderMultusConfig
metadata:
  name: no-bridge
  namespace: kube-system
spec:
  cniType: ovs
  ovs:
    vlan: 100
`,
    'spec.ovs.bridge: Required value',
  ],
  'nad-config-object': [
    `apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata:
  name: config-object
  namespace: default
spec:
  config:
    type: macvlan
`,
    'spec.config: Invalid value: "object"',
  ],
};
