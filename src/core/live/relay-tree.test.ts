import { describe, expect, it } from 'vitest';
import { RelayTree } from './relay-tree';

/** Every invariant of a tree: reachable from the broadcaster, no cycle, fan-outs respected, depths consistent. */
function checkTree(tree: RelayTree, fanOut: { root: number; relay: number }) {
  const seen = new Set<string>([tree.root]);
  const placements = tree.placements();
  for (const p of placements) {
    expect(seen.has(p.viewer)).toBe(false);
    seen.add(p.viewer);
    expect(tree.parentOf(p.viewer)).toBe(p.parent);
    expect(tree.depthOf(p.viewer)).toBe(p.depth);
    expect(p.depth).toBe(p.parent === tree.root ? 1 : tree.depthOf(p.parent) + 1);
  }
  expect(placements).toHaveLength(tree.size);
  expect(tree.childrenOf(tree.root).length).toBeLessThanOrEqual(fanOut.root);
  for (const p of placements) expect(tree.childrenOf(p.viewer).length).toBeLessThanOrEqual(fanOut.relay);
}

describe('RelayTree', () => {
  it('places viewers breadth first: the broadcaster feeds at most its fan-out, each viewer at most its own', () => {
    const tree = new RelayTree('host', { rootFanOut: 2, relayFanOut: 2 });
    const depths = Array.from({ length: 8 }, (_, i) => tree.place(`v${i}`)!.depth);
    expect(depths).toEqual([1, 1, 2, 2, 2, 2, 3, 3]);
    expect(tree.childrenOf('host')).toEqual(['v0', 'v1']);
    // The children of depth 1 are filled evenly (fewest children first), not one parent at a time.
    expect(tree.childrenOf('v0')).toEqual(['v2', 'v4']);
    expect(tree.childrenOf('v1')).toEqual(['v3', 'v5']);
    checkTree(tree, { root: 2, relay: 2 });
    // Asking again gives the same place.
    expect(tree.place('v6')).toEqual({ viewer: 'v6', parent: 'v2', depth: 3 });
    expect(tree.size).toBe(8);
  });

  it('keeps the broadcaster at 4 copies and the tree 4 deep for 100 viewers (defaults 4 and 3)', () => {
    const tree = new RelayTree('host');
    for (let i = 0; i < 100; i++) tree.place(`v${i}`);
    expect(tree.childrenOf('host')).toHaveLength(4);
    expect(Math.max(...tree.placements().map(p => p.depth))).toBe(4);
    checkTree(tree, { root: 4, relay: 3 });
  });

  it('gives a viewer only the children its measured upload carries (80 % of it, at the stream rate)', () => {
    const tree = new RelayTree('host', { rootFanOut: 1, relayFanOut: 3, streamBitsPerSecond: 2_000_000 });
    expect(tree.place('slow', 1_000_000)).toEqual({ viewer: 'slow', parent: 'host', depth: 1 });
    expect(tree.place('a')).toBeNull(); // the broadcaster is full, and 'slow' cannot carry one copy
    tree.setUpload('slow', 5_000_000); // 4 Mbit/s usable: two copies
    expect(tree.place('a')).toEqual({ viewer: 'a', parent: 'slow', depth: 2 });
    expect(tree.place('b')?.parent).toBe('slow');
    expect(tree.place('c')?.parent).toBe('a'); // 'slow' is at two; 'a' has no measure yet (assumed enough)
  });

  it('moves the children of a viewer that left, each with its subtree, to the shallowest free slots outside it', () => {
    const tree = new RelayTree('host', { rootFanOut: 2, relayFanOut: 2 });
    for (let i = 0; i < 8; i++) tree.place(`v${i}`);
    // As placed above: v0 feeds v2 and v4, v2 feeds v6; v1 feeds v3 and v5, v3 feeds v7.
    const v0Subtree = tree.placements().filter(p => p.parent === 'v0').map(p => p.viewer);
    expect(v0Subtree).toEqual(['v2', 'v4']);
    const moved = tree.remove('v0');
    expect(moved.map(m => m.viewer)).toEqual(['v2', 'v4']);
    // The broadcaster has a free slot again: the first orphan takes it, with its child.
    expect(moved[0]).toEqual({ viewer: 'v2', parent: 'host', depth: 1 });
    expect(tree.parentOf('v6')).toBe('v2');
    expect(tree.depthOf('v6')).toBe(2);
    expect(tree.has('v0')).toBe(false);
    expect(tree.size).toBe(7);
    checkTree(tree, { root: 2, relay: 2 });
  });

  it('never moves a subtree under one of its own viewers, and drops a subtree that has nowhere to go', () => {
    const tree = new RelayTree('host', { rootFanOut: 1, relayFanOut: 1 });
    ['a', 'b', 'c'].forEach(v => tree.place(v)); // host → a → b → c
    expect(tree.remove('a')).toEqual([{ viewer: 'b', parent: 'host', depth: 1 }]);
    expect(tree.parentOf('c')).toBe('b');
    const full = new RelayTree('host', { rootFanOut: 1, relayFanOut: 2 });
    full.place('a', 10_000_000);
    full.place('b', 0);
    full.place('c', 0);
    full.place('d', 0); // nowhere: a is full, b and c carry nothing
    expect(full.has('d')).toBe(false);
    // a leaves: the broadcaster's one slot takes b; c has nowhere to go and is dropped (it asks again).
    expect(full.remove('a')).toEqual([{ viewer: 'b', parent: 'host', depth: 1 }]);
    expect(full.has('c')).toBe(false);
    checkTree(full, { root: 1, relay: 2 });
  });

  it('holds every invariant through 2,000 random joins and leaves (seeded)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const tree = new RelayTree('host', { rootFanOut: 4, relayFanOut: 3, streamBitsPerSecond: 2_000_000 });
    let next = 0;
    for (let step = 0; step < 2000; step++) {
      const ids = tree.placements().map(p => p.viewer);
      if (ids.length && random() < 0.4) tree.remove(ids[Math.floor(random() * ids.length)]);
      else tree.place(`v${next++}`, random() < 0.2 ? Math.floor(random() * 8_000_000) : undefined);
      if (step % 50 === 0) checkTree(tree, { root: 4, relay: 3 });
    }
    checkTree(tree, { root: 4, relay: 3 });
    expect(tree.size).toBeGreaterThan(50);
  });
});
