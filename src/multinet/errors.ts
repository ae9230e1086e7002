/**
 * Named errors of the multi-network vocabulary. Every message names the object and the field at
 * fault so it can be shown as it is in a Kubernetes Event or a log line.
 */
export class MultinetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A NetworkAttachmentDefinition `spec.config` that cannot be used. */
export class InvalidNetworkConfigError extends MultinetError {}

/** A `k8s.v1.cni.cncf.io/networks` or `v1.multus-cni.io/default-network` value that cannot be parsed. */
export class InvalidNetworkSelectionError extends MultinetError {}

/** A Kube-OVN or Spiderpool annotation value that cannot be parsed. */
export class InvalidAnnotationError extends MultinetError {}

/** A SpiderMultusConfig spec that cannot be turned into a NAD config. */
export class InvalidMultusConfigError extends MultinetError {}
