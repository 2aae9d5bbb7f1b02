import { describe, expect, it } from 'vitest';
import { presenceMessage, PROTOCOL_VERSION } from '../wire';
import { TestNetwork } from './memory-network';

/** Names each peer received, in arrival order. */
function listen(network: TestNetwork, ids: string[]) {
  const peers = ids.map(id => network.peer(id, id));
  const heard = new Map<string, string[]>(ids.map(id => [id, []]));
  for (const p of peers) p.channel(presenceMessage).onMessage(msg => heard.get(p.selfId)!.push(msg.name));
  return { peers, heard };
}

describe('the in-memory network', () => {
  it('keeps the order of payloads between two peers under random latency', async () => {
    // A clock that moves 1 s per reading: the presence rate limit (2/s) never drops one of these.
    let t = 0;
    const network = new TestNetwork({ seed: 7, latencyMs: [1, 30], now: () => (t += 1000) });
    const { peers: [a, b], heard } = listen(network, ['a', 'b']);
    network.connect(a, b);
    for (let i = 0; i < 30; i++) await a.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name: `n${i}` }, 'b');
    await network.settle({ timeoutMs: 5000 });
    // The presence sent on connect, then the 30 in the order sent.
    expect(heard.get('b')).toEqual(['a', ...Array.from({ length: 30 }, (_, i) => `n${i}`)]);
  });

  it('loses the same payloads for the same seed, and none with loss 0', async () => {
    const run = async (seed: number, loss: number) => {
      const network = new TestNetwork({ seed, loss, now: () => 0 });
      const { peers: [a, b] } = listen(network, ['a', 'b']);
      network.connect(a, b);
      for (let i = 0; i < 200; i++) await a.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name: `n${i}` }, 'b');
      await network.settle();
      return network.lost;
    };
    const first = await run(3, 0.3);
    expect(first).toBeGreaterThan(30);
    expect(first).toBeLessThan(100);
    expect(await run(3, 0.3)).toBe(first);
    expect(await run(3, 0)).toBe(0);
  });

  it('a peer that leaves: its peers see peerLeave, and payloads in flight to it are lost', async () => {
    const network = new TestNetwork({ latencyMs: [20, 20] });
    const { peers: [a, b, c] } = listen(network, ['a', 'b', 'c']);
    network.connect(a, b);
    network.connect(a, c);
    await network.settle();
    const left: string[] = [];
    a.on('peerLeave', peer => left.push(peer.id));
    await a.channel(presenceMessage).send({ v: PROTOCOL_VERSION, name: 'late' }, 'b');
    network.leave(b);
    await network.settle();
    expect(left).toEqual(['b']);
    expect([...a.peers.keys()]).toEqual(['c']);
    expect(network.lost).toBe(1);
  });
});
