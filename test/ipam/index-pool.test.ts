import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Bitmap, IndexPool } from '../../src/ipam/index.js';

describe('Bitmap', () => {
  it('finds the next clear bit from a position, wrapping around', () => {
    const b = new Bitmap(70);
    for (let i = 0; i < 70; i++) if (i !== 3 && i !== 65) b.set(i);
    expect(b.findClear(0)).toBe(3);
    expect(b.findClear(4)).toBe(65);
    expect(b.findClear(66)).toBe(3);
    b.set(3);
    b.set(65);
    expect(b.count).toBe(70);
    expect(b.findClear(10)).toBe(-1);
  });

  it('never reports the padding bits past the end as clear', () => {
    const b = new Bitmap(33);
    for (let i = 0; i < 33; i++) expect(b.set(i)).toBe(true);
    expect(b.findClear(0)).toBe(-1);
    expect(b.set(5)).toBe(false);
    expect(b.clear(32)).toBe(true);
    expect(b.findClear(0)).toBe(32);
    expect(() => b.set(33)).toThrow(RangeError);
  });

  it('agrees with a naive model (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 300 }),
        fc.nat(),
        (size, ops, from) => {
          const b = new Bitmap(size);
          const model = new Array<boolean>(size).fill(false);
          for (const [set, raw] of ops) {
            const i = raw % size;
            if (set) b.set(i);
            else b.clear(i);
            model[i] = set;
          }
          const start = from % size;
          let expected = -1;
          for (let k = 0; k < size; k++) {
            const i = (start + k) % size;
            if (!model[i]) {
              expected = i;
              break;
            }
          }
          expect(b.findClear(start)).toBe(expected);
          expect(b.count).toBe(model.filter(Boolean).length);
        },
      ),
    );
  });
});

describe('IndexPool', () => {
  it('hands out slots round-robin from a cursor', () => {
    const p = new IndexPool(4n);
    expect([p.takeNext(), p.takeNext()]).toEqual([0, 1]);
    p.free(0n, false);
    // The cursor moves on: 2 and 3 come before the freed 0.
    expect([p.takeNext(), p.takeNext(), p.takeNext()]).toEqual([2, 3, 0]);
    expect(p.takeNext()).toBeNull();
  });

  it('holds freed slots in quarantine and reuses the oldest only when nothing else is free', () => {
    const p = new IndexPool(3n, { quarantine: { maxSize: 10 } });
    p.take(0n);
    p.take(1n);
    p.take(2n);
    p.free(1n, true);
    p.free(0n, true);
    expect(p.state(1n)).toBe('quarantined');
    expect(p.quarantinedCount).toBe(2);
    expect(p.takeNext(false)).toBeNull();
    expect(p.takeNext()).toBe(1);
    expect(p.takeNext()).toBe(0);
    expect(p.takeNext()).toBeNull();
  });

  it('lets the oldest quarantined slot go when the quarantine is over its size', () => {
    const p = new IndexPool(8n, { quarantine: { maxSize: 1 } });
    for (let i = 0; i < 8; i++) p.takeNext();
    p.free(5n, true);
    p.free(6n, true);
    expect(p.state(5n)).toBe('free');
    expect(p.state(6n)).toBe('quarantined');
  });

  it('lets quarantined slots go after maxAgeMs by the injected clock', () => {
    let now = 1000;
    const p = new IndexPool(4n, { quarantine: { maxAgeMs: 30_000 }, now: () => now });
    p.take(2n);
    p.free(2n, true);
    now += 29_999;
    expect(p.state(2n)).toBe('quarantined');
    now += 1;
    expect(p.state(2n)).toBe('free');
  });

  it('keeps FIFO order and membership through long runs that compact the quarantine queue (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        (maxSize, seed) => {
          let state = seed;
          const rand = (n: number): number => {
            state = (Math.imul(state, 1103515245) + 12345) >>> 0;
            return state % n;
          };
          const size = 4000;
          const p = new IndexPool(BigInt(size), { quarantine: { maxSize } });
          // Model: taken slots (array + position for O(1) removal), quarantine FIFO (array + head).
          const taken: number[] = [];
          const position = new Map<number, number>();
          const addTaken = (slot: number): void => {
            position.set(slot, taken.length);
            taken.push(slot);
          };
          const removeTaken = (slot: number): void => {
            const at = position.get(slot)!;
            const last = taken.pop()!;
            if (last !== slot) {
              taken[at] = last;
              position.set(last, at);
            }
            position.delete(slot);
          };
          // Exact FIFO: an explicit take removes the slot from the middle.
          let queue: number[] = [];
          const inQueue = new Set<number>();
          for (let step = 0; step < 12_000; step++) {
            const r = rand(10);
            if (r < 5) {
              const got = p.takeNext();
              if (got === null) {
                expect(taken.length).toBe(size);
                expect(inQueue.size).toBe(0);
                continue;
              }
              expect(position.has(got)).toBe(false);
              if (inQueue.has(got)) {
                expect(taken.length + inQueue.size).toBe(size);
                expect(got).toBe(queue[0]);
                queue.shift();
                inQueue.delete(got);
              }
              addTaken(got);
            } else if (r < 9) {
              if (taken.length === 0) continue;
              const victim = taken[rand(taken.length)]!;
              p.free(BigInt(victim), true);
              removeTaken(victim);
              if (maxSize > 0) {
                queue.push(victim);
                inQueue.add(victim);
              }
              while (queue.length > maxSize) inQueue.delete(queue.shift()!);
            } else if (inQueue.size > 0) {
              // Take one out of the middle of the quarantine explicitly.
              const victim = queue[rand(queue.length)]!;
              p.take(BigInt(victim));
              queue = queue.filter((q) => q !== victim);
              inQueue.delete(victim);
              addTaken(victim);
            }
          }
          expect(p.quarantined()).toEqual(queue);
          expect(p.takenCount).toBe(taken.length);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('tracks explicit slots beyond the bitmap window without allocating them dynamically', () => {
    const p = new IndexPool(1n << 64n, { maxBitmapSize: 64 });
    expect(p.windowSize).toBe(64);
    p.take(1n << 40n);
    expect(p.state(1n << 40n)).toBe('taken');
    expect(p.takenCount).toBe(1);
    expect(() => p.take(1n << 40n)).toThrow(/already taken/);
    p.free(1n << 40n, true);
    expect(p.state(1n << 40n)).toBe('free');
    for (let i = 0; i < 64; i++) expect(p.takeNext()).toBe(i);
    expect(p.takeNext()).toBeNull();
  });
});
