/** A cluster without Kube-OVN's or Spiderpool's CRDs: the controller starts and serves what it can. */
import { describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/k8s/connection.js';
import { startK8sSim } from '../../src/k8s/sim/index.js';
import { IpamController } from '../../src/watcher/ipam/index.js';

describe('IpamController without the optional CRDs', () => {
  it('starts (absent resources are treated as empty) and stops', async () => {
    const sim = await startK8sSim();
    const { kubeConfig } = resolveConnection({
      flags: { server: sim.url },
      env: {},
      serviceAccountDir: '/nonexistent',
    });
    const messages: string[] = [];
    const log = { debug() {}, info: (_o: object, m: string) => messages.push(m), warn() {}, error() {} };
    const controller = new IpamController({
      kubeConfig,
      gcIntervalMs: 0,
      logger: log,
      events: { warning() {} },
    });
    try {
      await controller.start();
      await controller.whenIdle();
      expect(messages.filter((m) => m.includes('CRD not installed')).length).toBe(4);
      expect(controller.snapshot()).toEqual({});
    } finally {
      await controller.stop();
      await sim.stop();
    }
  });
});
