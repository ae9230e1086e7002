/**
 * A fixed-size bit set with a wrap-around "next clear bit" search. One bit per address keeps a
 * /16 at 8 KiB and a million addresses at 128 KiB, and full words are skipped 32 bits at a time,
 * so finding a free address stays fast even when the pool is nearly full.
 */
export class Bitmap {
  private readonly words: Uint32Array;
  private setBits = 0;

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad bitmap size ${size}`);
    this.words = new Uint32Array(Math.ceil(size / 32));
    // Bits past the end are set once so the search never reports them as clear.
    const tail = size % 32;
    if (tail !== 0) this.words[this.words.length - 1] = ~((1 << tail) - 1) >>> 0;
  }

  get count(): number {
    return this.setBits;
  }

  get(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /** Sets bit i; false when it was already set. */
  set(i: number): boolean {
    this.check(i);
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    if ((this.words[w]! & bit) !== 0) return false;
    this.words[w] = this.words[w]! | bit;
    this.setBits++;
    return true;
  }

  /** Clears bit i; false when it was already clear. */
  clear(i: number): boolean {
    this.check(i);
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    if ((this.words[w]! & bit) === 0) return false;
    this.words[w] = this.words[w]! & ~bit;
    this.setBits--;
    return true;
  }

  /** The first clear bit at or after `from`, wrapping around to 0; -1 when every bit is set. */
  findClear(from: number): number {
    if (this.setBits >= this.size) return -1;
    const start = from >= 0 && from < this.size ? from : 0;
    const hit = this.scan(start, this.words.length);
    return hit >= 0 ? hit : this.scan(0, (start >>> 5) + 1);
  }

  /** Scans words [start's word, endWord) for a clear bit at index >= start. */
  private scan(start: number, endWord: number): number {
    let w = start >>> 5;
    // Mask the bits below `start` in its first word as if they were set.
    let inverted = ~(this.words[w]! | ((1 << (start & 31)) - 1)) >>> 0;
    for (;;) {
      if (inverted !== 0) {
        const low = inverted & -inverted;
        return w * 32 + (31 - Math.clz32(low));
      }
      w++;
      if (w >= endWord) return -1;
      inverted = ~this.words[w]! >>> 0;
    }
  }

  private check(i: number): void {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`bit ${i} outside bitmap of ${this.size}`);
  }
}
