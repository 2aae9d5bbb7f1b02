import { Swarm, type SwarmOptions } from '../swarm';
import { TestNetwork, type MemoryNetworkOptions, type TestPeer } from './memory-network';

/** One member of a {@link swarmRoom}: its peer, its swarm (memory store) and the feature opened on them. */
export interface SwarmRoomMember<F> {
  /** Its peer on the in-memory network (id as given, name `name-<id>`). */
  peer: TestPeer;
  /** Its swarm (memory store). */
  swarm: Swarm;
  /** What `open` made on them. */
  feature: F;
}

/**
 * A room of peers `ids` on a new in-memory network, all connected, each with a swarm (memory store,
 * 2 s request timeout unless `swarmOptions` says otherwise) and the feature `open` makes on them
 * (a gallery wall, a music library). Resolves once the network is quiet; `destroy()` destroys every
 * feature and swarm (call it after each test).
 */
export async function swarmRoom<F extends { destroy(): void }>(
  ids: string[],
  open: (peer: TestPeer, swarm: Swarm) => Promise<F>,
  options: MemoryNetworkOptions = {},
  swarmOptions: SwarmOptions = {},
): Promise<{ network: TestNetwork; peers: TestPeer[]; members: SwarmRoomMember<F>[]; destroy(): void }> {
  const network = new TestNetwork(options);
  const peers = network.fullMesh(ids);
  const members = await Promise.all(
    peers.map(async peer => {
      const swarm = await Swarm.open(peer.bulkLinks(), { database: null, requestTimeoutMs: 2000, ...swarmOptions });
      return { peer, swarm, feature: await open(peer, swarm) };
    }),
  );
  await network.settle();
  return { network, peers, members, destroy: () => members.forEach(m => (m.feature.destroy(), m.swarm.destroy())) };
}
