/**
 * A sorted set of strings kept in bounded chunks, so insert/remove cost O(log n + chunk) instead
 * of shifting one big array, and a paginated list can start at any key in O(log n) and then read
 * one page. (100,000 pods with random generated names would make a flat array's splices quadratic.)
 */
const MAX_CHUNK = 512;

export class SortedKeys {
  private chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Index of the first chunk whose last key is >= key (chunks.length when none). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid]!;
      if (chunk[chunk.length - 1]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound(arr: string[], key: string): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(key: string): boolean {
    const ci = this.chunkFor(key);
    const chunk = this.chunks[ci];
    if (!chunk) return false;
    const i = SortedKeys.lowerBound(chunk, key);
    return chunk[i] === key;
  }

  insert(key: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.count = 1;
      return;
    }
    let ci = this.chunkFor(key);
    if (ci === this.chunks.length) ci -= 1; // beyond every key: append to the last chunk
    const chunk = this.chunks[ci]!;
    const i = SortedKeys.lowerBound(chunk, key);
    if (chunk[i] === key) return;
    if (i === chunk.length) chunk.push(key);
    else chunk.splice(i, 0, key);
    this.count += 1;
    if (chunk.length > MAX_CHUNK * 2) {
      this.chunks.splice(ci + 1, 0, chunk.splice(MAX_CHUNK));
    }
  }

  remove(key: string): boolean {
    const ci = this.chunkFor(key);
    const chunk = this.chunks[ci];
    if (!chunk) return false;
    const i = SortedKeys.lowerBound(chunk, key);
    if (chunk[i] !== key) return false;
    chunk.splice(i, 1);
    this.count -= 1;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  /** Keys in order starting at the first key >= start (or > start when `exclusive`). */
  *from(start: string, exclusive = false): Generator<string> {
    let ci = this.chunkFor(start);
    if (ci >= this.chunks.length) return;
    let i = SortedKeys.lowerBound(this.chunks[ci]!, start);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const chunk = this.chunks[ci]!;
      for (; i < chunk.length; i++) {
        const k = chunk[i]!;
        if (exclusive && k === start) continue;
        yield k;
      }
    }
  }

  /** How many keys are > key (O(chunks), used for remainingItemCount). */
  countAfter(key: string): number {
    const ci = this.chunkFor(key);
    if (ci >= this.chunks.length) return 0;
    const chunk = this.chunks[ci]!;
    let i = SortedKeys.lowerBound(chunk, key);
    if (chunk[i] === key) i += 1;
    let n = chunk.length - i;
    for (let c = ci + 1; c < this.chunks.length; c++) n += this.chunks[c]!.length;
    return n;
  }
}
