/** Percentiles and the duplicate-address check of the IPAM load bench. */

/** The p-th percentile (0..100) of `values`, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Addresses held by more than one pod, per network: network -> ip -> pods. */
export function duplicates(
  holders: Iterable<{ pod: string; network: string; ips: readonly string[] }>,
): Map<string, Map<string, string[]>> {
  const seen = new Map<string, Map<string, string[]>>();
  for (const h of holders) {
    let net = seen.get(h.network);
    if (!net) seen.set(h.network, (net = new Map()));
    for (const cidr of h.ips) {
      const ip = cidr.split('/')[0]!;
      const pods = net.get(ip) ?? [];
      pods.push(h.pod);
      net.set(ip, pods);
    }
  }
  const out = new Map<string, Map<string, string[]>>();
  for (const [network, ips] of seen) {
    const dup = new Map([...ips].filter(([, pods]) => pods.length > 1));
    if (dup.size > 0) out.set(network, dup);
  }
  return out;
}
