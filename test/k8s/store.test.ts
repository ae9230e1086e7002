import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Store, UnknownIndexError } from '../../src/k8s/store.js';

interface Obj extends KubernetesObject {
  tags: string[];
}

const obj = (name: string, tags: string[], ns = 'default'): Obj => ({
  metadata: { name, namespace: ns },
  tags,
});

describe('Store', () => {
  it('keeps indexes in step with upserts and removes, including multi-valued ones', () => {
    const s = new Store<Obj>({ byTag: (o) => o.tags });
    s.upsert('default/a', obj('a', ['x', 'y']));
    s.upsert('default/b', obj('b', ['y']));
    expect(s.indexKeys('byTag', 'y').sort()).toEqual(['default/a', 'default/b']);
    s.upsert('default/a', obj('a', ['z']));
    expect(s.indexKeys('byTag', 'x')).toEqual([]);
    expect(s.indexKeys('byTag', 'y')).toEqual(['default/b']);
    expect(s.byIndex('byTag', 'z').map((o) => o.metadata?.name)).toEqual(['a']);
    expect(s.remove('default/b')?.metadata?.name).toBe('b');
    expect(s.indexValues('byTag')).toEqual(['z']);
    expect(s.getByName('a', 'default')?.tags).toEqual(['z']);
    expect(() => s.byIndex('nope', 'x')).toThrow(UnknownIndexError);
  });

  it('builds an index added later from the objects already stored', () => {
    const s = new Store<Obj>();
    s.upsert('default/a', obj('a', ['x']));
    s.addIndexer('byTag', (o) => o.tags);
    expect(s.indexKeys('byTag', 'x')).toEqual(['default/a']);
  });

  it('answers an index exactly like a scan, whatever the sequence of writes (property)', () => {
    const op = fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'd'),
      tags: fc.uniqueArray(fc.constantFrom('x', 'y', 'z'), { maxLength: 3 }),
      remove: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const s = new Store<Obj>({ byTag: (o) => o.tags });
        for (const o of ops) {
          if (o.remove) s.remove(`default/${o.name}`);
          else s.upsert(`default/${o.name}`, obj(o.name, o.tags));
        }
        for (const tag of ['x', 'y', 'z']) {
          const scan = s
            .list()
            .filter((o) => o.tags.includes(tag))
            .map((o) => `default/${o.metadata!.name}`);
          expect(s.indexKeys('byTag', tag).sort()).toEqual(scan.sort());
        }
      }),
    );
  });
});
