import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startK8sSim, type K8sSim } from '../../src/k8s/sim/index.js';
import { waitFor } from '../../src/runtime/process.js';
import { call, pod } from './client.js';

const P = '/api/v1/namespaces/default/pods';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';

function podNetworks(ip: string): string {
  return JSON.stringify({
    default: {
      ip_addresses: [ip],
      mac_address: '0a:58:0a:80:01:05',
      gateway_ips: ['10.128.1.1'],
      role: 'primary',
    },
  });
}

describe('kubelet stand-in', () => {
  let sim: K8sSim;
  beforeAll(async () => {
    sim = await startK8sSim({ controllers: { kubelet: true } });
    await call(sim, 'POST', '/api/v1/nodes', {
      metadata: { name: 'n1' },
      status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }] },
    });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('leaves a scheduled pod Pending until the pod-networks annotation, then reports Running with its IPs', async () => {
    await call(sim, 'POST', P, pod('k1', {}, { nodeName: 'n1' }));
    await new Promise((r) => setTimeout(r, 50));
    expect((await call(sim, 'GET', `${P}/k1`)).body.status.phase).toBe('Pending');
    await call(
      sim,
      'PATCH',
      `${P}/k1`,
      { metadata: { annotations: { 'k8s.ovn.org/pod-networks': podNetworks('10.128.1.5/24') } } },
      'application/merge-patch+json',
    );
    const running = await waitFor('pod Running', async () => {
      const p = (await call(sim, 'GET', `${P}/k1`)).body;
      return p.status.phase === 'Running' ? p : undefined;
    });
    expect(running.status.podIP).toBe('10.128.1.5');
    expect(running.status.podIPs).toEqual([{ ip: '10.128.1.5' }]);
    expect(running.status.hostIP).toBe('172.18.0.2');
    expect(running.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
  });

  it('runs hostNetwork pods at once with the node IP and leaves unscheduled pods alone', async () => {
    await call(sim, 'POST', P, pod('host', {}, { nodeName: 'n1', hostNetwork: true }));
    await call(sim, 'POST', P, pod('unscheduled'));
    const host = await waitFor('hostNetwork pod Running', async () => {
      const p = (await call(sim, 'GET', `${P}/host`)).body;
      return p.status.phase === 'Running' ? p : undefined;
    });
    expect(host.status.podIP).toBe('172.18.0.2');
    expect((await call(sim, 'GET', `${P}/unscheduled`)).body.status.phase).toBe('Pending');
  });

  it('starts a hostNetwork pod once its node reports an InternalIP', async () => {
    await call(sim, 'POST', '/api/v1/nodes', { metadata: { name: 'late' } });
    await call(sim, 'POST', P, pod('host-late', {}, { nodeName: 'late', hostNetwork: true }));
    await new Promise((r) => setTimeout(r, 50));
    expect((await call(sim, 'GET', `${P}/host-late`)).body.status.phase).toBe('Pending');
    await call(
      sim,
      'PATCH',
      '/api/v1/nodes/late/status',
      { status: { addresses: [{ type: 'InternalIP', address: '172.18.0.9' }] } },
      'application/merge-patch+json',
    );
    const p = await waitFor('hostNetwork pod Running', async () => {
      const x = (await call(sim, 'GET', `${P}/host-late`)).body;
      return x.status.phase === 'Running' ? x : undefined;
    });
    expect(p.status.podIP).toBe('172.18.0.9');
  });

  it('leaves a pod that Succeeded or Failed finished (phases are terminal)', async () => {
    const annotate = (name: string, ip: string) =>
      call(
        sim,
        'PATCH',
        `${P}/${name}`,
        { metadata: { annotations: { 'k8s.ovn.org/pod-networks': podNetworks(ip) } } },
        'application/merge-patch+json',
      );
    const phaseOf = async (name: string) => (await call(sim, 'GET', `${P}/${name}`)).body.status.phase;
    // One pod finishes after it ran, the other before the kubelet ever saw its IPs.
    await call(sim, 'POST', P, pod('job', {}, { nodeName: 'n1', restartPolicy: 'Never' }));
    await annotate('job', '10.128.1.20/24');
    await waitFor('job Running', async () => ((await phaseOf('job')) === 'Running' ? true : undefined));
    await call(sim, 'POST', P, pod('early', {}, { nodeName: 'n1', restartPolicy: 'Never' }));
    for (const [name, phase] of [
      ['job', 'Succeeded'],
      ['early', 'Failed'],
    ] as const) {
      const r = await call(
        sim,
        'PATCH',
        `${P}/${name}/status`,
        { status: { phase } },
        'application/merge-patch+json',
      );
      expect(r.status).toBe(200);
    }
    // Events the kubelet reacts to: new pod-networks on both (e.g. our watcher re-annotating).
    await annotate('job', '10.128.1.21/24');
    await annotate('early', '10.128.1.22/24');
    // A pod handled after them shows the kubelet had its turn.
    await call(sim, 'POST', P, pod('sentinel', {}, { nodeName: 'n1' }));
    await annotate('sentinel', '10.128.1.23/24');
    await waitFor('sentinel Running', async () =>
      (await phaseOf('sentinel')) === 'Running' ? true : undefined,
    );
    expect(await phaseOf('job')).toBe('Succeeded');
    expect(await phaseOf('early')).toBe('Failed');
    expect((await call(sim, 'GET', `${P}/early`)).body.status.podIP).toBeUndefined();
  });

  it('finishes graceful deletion of pods on nodes (deletionTimestamp first, then gone)', async () => {
    await call(sim, 'POST', P, pod('bye', {}, { nodeName: 'n1' }));
    const del = await call(sim, 'DELETE', `${P}/bye`);
    expect(del.body.metadata.deletionTimestamp).toBeDefined();
    await waitFor('pod gone', async () => (await call(sim, 'GET', `${P}/bye`)).status === 404);
  });
});

describe('EndpointSlice controller stand-in', () => {
  let sim: K8sSim;
  beforeAll(async () => {
    sim = await startK8sSim({ controllers: { endpointSlices: true } });
  });
  afterAll(async () => {
    await sim.stop();
  });

  async function readyPod(name: string, labels: Record<string, string>, ip: string, ports: unknown[]) {
    await call(
      sim,
      'POST',
      P,
      pod(name, labels, { nodeName: 'n1', containers: [{ name: 'c', image: 'x', ports }] }),
    );
    await call(
      sim,
      'PATCH',
      `${P}/${name}/status`,
      {
        status: {
          phase: 'Running',
          podIP: ip,
          podIPs: [{ ip }],
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      },
      'application/merge-patch+json',
    );
  }

  async function slicesFor(svc: string): Promise<any[]> {
    return (await call(sim, 'GET', `${SLICES}?labelSelector=kubernetes.io%2Fservice-name%3D${svc}`)).body
      .items;
  }

  it('publishes ready pods with named target ports resolved per pod', async () => {
    await call(sim, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    const placeholder = await waitFor('placeholder slice', async () => {
      const s = await slicesFor('web');
      return s.length === 1 ? s[0] : undefined;
    });
    expect(placeholder.endpoints).toEqual([]);
    await readyPod('web-a', { app: 'web' }, '10.128.0.5', [{ name: 'http', containerPort: 8080 }]);
    await readyPod('web-b', { app: 'web' }, '10.128.0.6', [{ name: 'http', containerPort: 9090 }]);
    await call(sim, 'POST', P, pod('web-pending', { app: 'web' }));
    await readyPod('other', { app: 'db' }, '10.128.0.7', []);
    const slices = await waitFor('two slices', async () => {
      const s = await slicesFor('web');
      return s.length === 2 && s.every((x) => x.endpoints.length === 1) ? s : undefined;
    });
    const byPort = Object.fromEntries(slices.map((s: any) => [s.ports[0].port, s.endpoints[0].addresses[0]]));
    expect(byPort).toEqual({ 8080: '10.128.0.5', 9090: '10.128.0.6' });
    for (const s of slices) {
      expect(s.addressType).toBe('IPv4');
      expect(s.metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe(
        'endpointslice-controller.k8s.io',
      );
      expect(s.ports[0]).toMatchObject({ name: 'http', protocol: 'TCP' });
      expect(s.endpoints[0]).toMatchObject({
        conditions: { ready: true },
        nodeName: 'n1',
        targetRef: { kind: 'Pod' },
      });
    }
  });

  it('drops pods that stop being ready and removes slices with the service', async () => {
    await call(
      sim,
      'PATCH',
      `${P}/web-b/status`,
      { status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      'application/merge-patch+json',
    );
    await waitFor('one slice left', async () => {
      const s = await slicesFor('web');
      return s.length === 1 && s[0].endpoints[0]?.addresses[0] === '10.128.0.5';
    });
    await call(sim, 'DELETE', '/api/v1/namespaces/default/services/web');
    await waitFor('slices gone', async () => (await slicesFor('web')).length === 0);
  });

  it('resolves numeric target ports and ignores services without a selector', async () => {
    await call(sim, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'num' },
      spec: { selector: { app: 'web' }, ports: [{ port: 443, targetPort: 8443 }] },
    });
    await call(sim, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'manual' },
      spec: { ports: [{ port: 1 }] },
    });
    const s = await waitFor('numeric slice', async () => {
      const x = await slicesFor('num');
      return x.length === 1 && x[0].endpoints.length === 1 ? x[0] : undefined;
    });
    expect(s.ports).toEqual([{ name: '', port: 8443, protocol: 'TCP' }]);
    expect(await slicesFor('manual')).toEqual([]);
  });
});
