/**
 * The Kubernetes writes of the central IPAM beyond pod annotations: pool status, IPReservation
 * create/delete, the NADs of SpiderMultusConfigs. Thin wrappers over CustomObjectsApi that turn
 * "already there" / "already gone" into results rather than exceptions.
 */
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { httpStatusOf, K8sRequestError, statusReasonOf } from '../../k8s/errors.js';
import { NETWORK_ATTACHMENT_DEFINITIONS, type ResourceType } from '../../k8s/resources.js';
import { makeApiClient } from '../../k8s/api-client.js';

const gvp = (t: ResourceType) => ({ group: t.group, version: t.version, plural: t.plural });
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class IpamWriter {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = makeApiClient(kc, CustomObjectsApi);
  }

  /** Merge-patches `status` of a cluster-scoped object (through /status, else the object itself). */
  async patchClusterStatus(t: ResourceType, name: string, status: Record<string, unknown>): Promise<boolean> {
    const body = { status };
    try {
      await this.api.patchClusterCustomObjectStatus({ ...gvp(t), name, body }, mergePatch);
      return true;
    } catch (err) {
      const code = httpStatusOf(err);
      if (code !== 404)
        throw new K8sRequestError(`patch ${t.kind} ${name} status`, code, statusReasonOf(err), {
          cause: err,
        });
    }
    // No status subresource declared in the CRD: the status is part of the object.
    try {
      await this.api.patchClusterCustomObject({ ...gvp(t), name, body }, mergePatch);
      return true;
    } catch (err) {
      const code = httpStatusOf(err);
      if (code === 404) return false;
      throw new K8sRequestError(`patch ${t.kind} ${name}`, code, statusReasonOf(err), { cause: err });
    }
  }

  /** Creates a namespaced object; false when one of that name exists already. */
  async createNamespaced(t: ResourceType, namespace: string, body: KubernetesObject): Promise<boolean> {
    try {
      await this.api.createNamespacedCustomObject({ ...gvp(t), namespace, body });
      return true;
    } catch (err) {
      const code = httpStatusOf(err);
      if (code === 409) return false;
      throw new K8sRequestError(
        `create ${t.kind} ${namespace}/${body.metadata?.name}`,
        code,
        statusReasonOf(err),
        { cause: err },
      );
    }
  }

  async patchNamespaced(t: ResourceType, namespace: string, name: string, body: unknown): Promise<boolean> {
    try {
      await this.api.patchNamespacedCustomObject({ ...gvp(t), namespace, name, body }, mergePatch);
      return true;
    } catch (err) {
      const code = httpStatusOf(err);
      if (code === 404) return false;
      throw new K8sRequestError(`patch ${t.kind} ${namespace}/${name}`, code, statusReasonOf(err), {
        cause: err,
      });
    }
  }

  /** Deletes a namespaced object; false when it was already gone. */
  async deleteNamespaced(t: ResourceType, namespace: string, name: string): Promise<boolean> {
    try {
      await this.api.deleteNamespacedCustomObject({ ...gvp(t), namespace, name });
      return true;
    } catch (err) {
      const code = httpStatusOf(err);
      if (code === 404) return false;
      throw new K8sRequestError(`delete ${t.kind} ${namespace}/${name}`, code, statusReasonOf(err), {
        cause: err,
      });
    }
  }

  /** Creates or updates the NAD `namespace/name` with this config and owner. */
  async ensureNad(
    namespace: string,
    name: string,
    config: string,
    owner: { apiVersion: string; kind: string; name: string; uid: string },
  ): Promise<'created' | 'updated'> {
    const t = NETWORK_ATTACHMENT_DEFINITIONS;
    const ownerReferences = [{ ...owner, controller: true, blockOwnerDeletion: true }];
    const created = await this.createNamespaced(t, namespace, {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name, namespace, ownerReferences },
      spec: { config },
    } as KubernetesObject);
    if (created) return 'created';
    await this.patchNamespaced(t, namespace, name, { metadata: { ownerReferences }, spec: { config } });
    return 'updated';
  }
}
