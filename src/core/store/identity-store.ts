import type { IdentityStore } from '../identity';
import type { P2pDatabase } from './database';

/**
 * Per-room identities in the Dexie `identities` table, with the atomic operations
 * several tabs of one device need (one key per room; never the same sequence number twice).
 */
export function dexieIdentityStore(db: P2pDatabase): IdentityStore {
  return {
    get: room => db.identities.get(room),
    put: async identity => void (await db.identities.put(identity)),
    putIfAbsent: identity =>
      db.transaction('rw', db.identities, async () => {
        const existing = await db.identities.get(identity.room);
        if (existing) return existing;
        await db.identities.put(identity);
        return identity;
      }),
    reserveSeq: (room, atLeast = 1) =>
      db.transaction('rw', db.identities, async () => {
        const identity = await db.identities.get(room);
        if (!identity) throw new Error('no identity for this room');
        const seq = Math.max(identity.nextSeq, atLeast);
        await db.identities.put({ ...identity, nextSeq: seq + 1 });
        return seq;
      }),
  };
}
