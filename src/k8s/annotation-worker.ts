/**
 * Worker-thread side of the annotation offload (see annotation-offload.ts): receives annotation
 * writes, sends them with its own @kubernetes/client-node clients (built from the main thread's
 * kubeconfig), and answers each with its outcome.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KubeConfig } from '@kubernetes/client-node';
import { setAnnotations } from './annotations.js';
import { httpStatusOf, statusReasonOf } from './errors.js';
import { resourceClients } from './resources.js';
import type { AnnotateRequest, AnnotateResponse, AnnotationWorkerData } from './annotation-offload.js';

const data = workerData as AnnotationWorkerData;
const kc = new KubeConfig();
kc.loadFromString(data.kubeconfig);
const clientFor = resourceClients(kc);

async function handle(req: AnnotateRequest): Promise<AnnotateResponse> {
  try {
    const res = await setAnnotations(
      clientFor(req.type),
      { name: req.name, ...(req.namespace ? { namespace: req.namespace } : {}) },
      req.changes,
      // only the outcome goes back to the main thread: the answer's object is not even decoded
      { current: req.current, skipAnswer: true, ...(req.uid ? { uid: req.uid } : {}) },
    );
    return { id: req.id, ok: true, status: res.status, requests: res.requests };
  } catch (err) {
    const e = err as Error;
    return {
      id: req.id,
      ok: false,
      error: {
        name: e?.name ?? 'Error',
        message: e?.message ?? String(err),
        status: (err as { status?: number }).status ?? httpStatusOf(err),
        reason: (err as { reason?: string }).reason ?? statusReasonOf(err),
      },
    };
  }
}

parentPort!.on('message', (req: AnnotateRequest) => {
  void handle(req).then((res) => parentPort!.postMessage(res));
});
