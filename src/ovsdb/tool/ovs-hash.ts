/**
 * The iteration order of OVS's `shash` (a string hash map), reproduced so that our tool lists
 * things in the same order as `ovsdb-client` where the C tool does not sort: the tables of
 * `list-tables` and the rows of a `monitor` update come out in hash-map order.
 *
 * OVS hashes a name with `hash_string(name, 0)` (murmur3-style `hash_bytes`, 32 bit), keeps the
 * nodes in `2^k` buckets (new nodes go to the front of their bucket's chain), doubles the bucket
 * count when `n / 2 > mask`, and iterates buckets in index order, each chain front to back.
 */

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

function mhashAdd(hash: number, data: number): number {
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51) >>> 0;
    d = rotl(d, 15);
    d = Math.imul(d, 0x1b873593) >>> 0;
    hash = (hash ^ d) >>> 0;
  }
  hash = rotl(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

function mhashFinish(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** OVS `hash_bytes(p, n, basis)` (the generic, non-CRC32 build that Debian ships). */
export function ovsHashBytes(bytes: Uint8Array, basis = 0): number {
  let hash = basis >>> 0;
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    const word = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
    hash = mhashAdd(hash, word);
  }
  if (i < bytes.length) {
    let tail = 0;
    for (let j = 0; i + j < bytes.length; j++) tail |= bytes[i + j]! << (8 * j);
    hash = mhashAdd(hash, tail >>> 0);
  }
  return mhashFinish((hash ^ bytes.length) >>> 0);
}

/** OVS `hash_string(s, basis)` over the UTF-8 bytes of `s`. */
export function ovsHashString(s: string, basis = 0): number {
  return ovsHashBytes(Buffer.from(s, 'utf8'), basis);
}

/** OVS `calc_mask()`: the bucket mask for `capacity` nodes. */
function calcMask(capacity: number): number {
  let mask = Math.floor(capacity / 2);
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask |= (mask & 1) << 1;
  return mask >>> 0;
}

/**
 * The order in which OVS iterates an shash after inserting `keys` in the given order
 * (duplicates must already be removed).
 */
export function shashOrder(keys: readonly string[]): string[] {
  const hashes = new Map<string, number>();
  for (const k of keys) hashes.set(k, ovsHashString(k));
  let mask = 0;
  // each bucket is a chain, front first; new nodes are put at the front (unshift)
  let buckets: string[][] = [[]];
  let n = 0;
  for (const k of keys) {
    buckets[hashes.get(k)! & mask]!.unshift(k);
    n++;
    if (Math.floor(n / 2) > mask) {
      const newMask = calcMask(n);
      if (newMask > mask) {
        const old = buckets;
        mask = newMask;
        buckets = Array.from({ length: mask + 1 }, () => []);
        for (const chain of old) for (const key of chain) buckets[hashes.get(key)! & mask]!.unshift(key);
      }
    }
  }
  return buckets.flat();
}
