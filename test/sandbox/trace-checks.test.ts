/**
 * What the demo's egress check requires of a detailed ovn-trace (the live traces run in
 * test/e2e/demo.test.ts): the excerpts are lines of real `ovn-trace --detailed` output of the demo
 * cluster, web_client on worker1 to 1.1.1.1.
 */
import { describe, expect, it } from 'vitest';
import { egressMisses, tracedBackends } from '../../src/sandbox/trace-checks.js';

const throughMaster = `ingress(dp="worker1", inport="web_client")
egress(dp="ovn_cluster_router", inport="rtos-worker1", outport="rtoj-ovn_cluster_router")
egress(dp="join", inport="jtor-ovn_cluster_router", outport="jtor-GR_master")
ingress(dp="GR_master", inport="rtoj-GR_master")
egress(dp="GR_master", inport="rtoj-GR_master", outport="rtoe-GR_master")
 3. lr_out_snat (northd.c:13906): ip && ip4.src == 10.128.0.0/14 && (!ct.trk || !ct.rpl), priority 15, uuid 1295bb33
    ct_snat(172.18.0.10);

ct_snat(ip4.src=172.18.0.10)
ingress(dp="ext_master", inport="etor-GR_master")
    egress(dp="ext_master", inport="etor-GR_master", outport="breth0_master")
            /* output to "breth0_master", type "localnet" */
`;

/** the cluster router without its default route: no route matches 1.1.1.1 */
const droppedAtClusterRouter = `ingress(dp="worker1", inport="web_client")
ingress(dp="ovn_cluster_router", inport="rtos-worker1")
13. lr_in_ip_routing (northd.c:11573): 1, priority 0, uuid 0f0e5b5a
    drop;
`;

describe('egressMisses', () => {
  it('accepts a packet that enters GR_master from join, is SNATed to its node IP and leaves by its localnet port', () => {
    expect(egressMisses(throughMaster, 'master', '172.18.0.10', 'breth0_master')).toEqual([]);
  });

  it('names all three steps when the cluster router drops the packet (no default route)', () => {
    expect(egressMisses(droppedAtClusterRouter, 'master', '172.18.0.10', 'breth0_master')).toEqual([
      'entry into GR_master',
      'SNAT to 172.18.0.10',
      'output to breth0_master',
    ]);
  });

  it('rejects an exit through another gateway than the one asked for', () => {
    expect(egressMisses(throughMaster, 'worker2', '172.18.0.12', 'breth0_worker2')).toEqual([
      'entry into GR_worker2',
      'SNAT to 172.18.0.12',
      'output to breth0_worker2',
    ]);
  });

  it('rejects a packet that leaves unSNATed or to another address', () => {
    const noSnat = throughMaster.replace(/.*ct_snat.*\n/g, '');
    expect(egressMisses(noSnat, 'master', '172.18.0.10', 'breth0_master')).toEqual(['SNAT to 172.18.0.10']);
    expect(egressMisses(throughMaster, 'master', '172.18.0.1', 'breth0_master')).toEqual([
      'SNAT to 172.18.0.1',
    ]);
  });

  it('does not take a router port or a non-localnet output for the exit', () => {
    const stoppedAtGr = throughMaster.slice(0, throughMaster.indexOf('ingress(dp="ext_master"'));
    expect(egressMisses(stoppedAtGr, 'master', '172.18.0.10', 'breth0_master')).toEqual([
      'output to breth0_master',
    ]);
  });
});

describe('tracedBackends', () => {
  it('reads the backends of the first ct_lb_mark', () => {
    expect(tracedBackends('    ct_lb_mark(backends=10.128.2.3:8080,10.128.4.3:8080);\n')).toEqual([
      '10.128.2.3:8080',
      '10.128.4.3:8080',
    ]);
    expect(tracedBackends('ct_lb_mark /* default (use --ct to customize) */ {')).toEqual([]);
  });
});
