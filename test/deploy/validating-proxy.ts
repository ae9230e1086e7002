/**
 * A test-side admission step in front of the simulator: POSTs of custom resources are validated
 * against their CRD's OpenAPI schema with src/k8s/crd-validation.ts and refused with the API
 * server's 422 Status; everything else is forwarded unchanged (watch streams included).
 * Stands in until the simulator calls validateCustomResource itself.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { invalidStatus, validateCustomResource, type CrdLike } from '../../src/k8s/crd-validation.js';
import type { K8sSim } from '../../src/k8s/sim/index.js';

const CR_POST = /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/[^/]+\/)?([^/?]+)(?:\?.*)?$/;

function findCrd(sim: K8sSim, group: string, plural: string): CrdLike | undefined {
  const t = sim.api.registry.get('apiextensions.k8s.io', 'customresourcedefinitions')!;
  return sim.api
    .list(t, undefined, {})
    .entries.map((e) => e.obj as unknown as CrdLike)
    .find((c) => c.spec?.group === group && c.spec?.names?.plural === plural);
}

export async function startValidatingProxy(
  sim: K8sSim,
): Promise<{ url: string; refused: string[]; close(): Promise<void> }> {
  const target = new URL(sim.url);
  const refused: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const m = req.method === 'POST' ? CR_POST.exec(req.url ?? '') : null;
      const crd = m ? findCrd(sim, m[1]!, m[3]!) : undefined;
      if (crd && body.length) {
        const obj = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        const { errors } = validateCustomResource(crd, obj);
        if (errors.length) {
          const name = (obj.metadata as { name?: string } | undefined)?.name ?? '';
          const status = invalidStatus(String(obj.kind), name, m![1]!, errors);
          refused.push(String(status.message));
          res.writeHead(422, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(status));
          return;
        }
      }
      const fwd = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refused,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
