/**
 * Services: per-service load balancers from the Service and its EndpointSlices (ready endpoints),
 * with NodePort VIPs on every gateway. Updates and deletions of either take effect, as the key is
 * recomputed from the current state each time.
 */
import { ENDPOINTSLICE_SERVICE_INDEX } from '../k8s/factory.js';
import { serviceRows } from '../ovn/intent/index.js';
import { serviceOwner } from '../ovn/names.js';
import { applyOwned, serviceKey, type ControllerContext } from './context.js';
import { endpointSliceInfo, serviceInfo } from './convert.js';

export class ServiceController {
  constructor(
    private readonly ctx: ControllerContext,
    private readonly gatewayIps: () => string[],
  ) {}

  async sync(nsName: string): Promise<void> {
    const { ctx } = this;
    const [namespace, name] = nsName.split('/') as [string, string];
    const svc = ctx.informers.services.store.get(nsName);
    const info = svc ? serviceInfo(svc) : undefined;
    const rows = info
      ? serviceRows(
          info,
          ctx.informers.endpointSlices.store
            .byIndex(ENDPOINTSLICE_SERVICE_INDEX, nsName)
            .map(endpointSliceInfo),
          this.gatewayIps(),
        )
      : [];
    await applyOwned(ctx, serviceKey(nsName), serviceOwner(namespace, name), rows);
  }
}
