/**
 * The names of the signaling strategies, apart from their code: the attribute parser needs the
 * names before anything of the mesh has loaded (the `trystero` module derives its Nostr key as it
 * loads), so it imports this file, not `strategies.ts`.
 */

/** Signaling strategies a widget may choose (attribute `strategy`). */
export type Strategy = 'nostr' | 'mqtt' | 'torrent';

/** Every value the `strategy` attribute accepts, the default (`nostr`) first. */
export const STRATEGIES: readonly Strategy[] = ['nostr', 'mqtt', 'torrent'];
