import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { installNodeWebSocket } from '../testing';
import { startRelay, type ServerProcess } from '../../../test/harness/processes.mjs';
import { joinMesh, LINGER_MS, openMeshCount } from './join-mesh';
import type { MeshOptions, MeshStatus } from './mesh-room';

/**
 * joinMesh against a real local Nostr relay, in Node: Trystero's Nostr strategy over
 * `ws`, node-datachannel as the RTCPeerConnection. One process is one "page".
 */
describe('joinMesh', () => {
  let relay: ServerProcess;
  let base: MeshOptions;

  beforeAll(async () => {
    installNodeWebSocket();
    relay = await startRelay();
    base = {
      appId: 'join-mesh-test',
      room: `room-${Date.now()}`,
      relayUrls: [relay.url],
      iceServers: [],
      userName: 'Node',
      rtcPolyfill: RTCPeerConnection as unknown as typeof globalThis.RTCPeerConnection,
    };
  });

  afterAll(async () => {
    await relay?.stop();
  });

  const nextStatus = (room: { on: (e: 'status', h: (s: MeshStatus) => void) => () => void; status: MeshStatus }, state: MeshStatus['state'], timeoutMs = 15_000) =>
    new Promise<MeshStatus>((resolve, reject) => {
      if (room.status.state === state) return resolve(room.status);
      const timer = setTimeout(() => reject(new Error(`status stayed ${room.status.state}, wanted ${state}`)), timeoutMs);
      const off = room.on('status', s => {
        if (s.state !== state) return;
        clearTimeout(timer);
        off();
        resolve(s);
      });
    });

  it('shares one room between holders and leaves with the last release', async () => {
    const first = await joinMesh(base);
    const second = await joinMesh({ ...base });
    expect(second.room).toBe(first.room);
    expect(openMeshCount()).toBe(1);
    await nextStatus(first.room, 'waiting');

    await first.release();
    await first.release(); // idempotent: does not drop the second holder's reference
    expect(openMeshCount()).toBe(1);
    await second.release();
    expect(openMeshCount()).toBe(0);

    const again = await joinMesh(base);
    expect(again.room).not.toBe(first.room);
    await again.release();
  });

  it('keeps a released room a moment for a holder that comes back, and leaves when none does', async () => {
    const options = { ...base, room: `${base.room}-linger` };
    const first = await joinMesh(options);
    await nextStatus(first.room, 'waiting');
    const released = first.release(); // not awaited: a widget removed and added back at once
    const back = await joinMesh({ ...options });
    expect(back.room).toBe(first.room); // the same room and peer connections, no leave and rejoin
    await released; // resolves once taken over
    expect(back.room.status.state).toBe('waiting');

    // Added back with other settings (another name): the lingering room is left, a new one joined.
    const releasedAgain = back.release();
    const renamed = await joinMesh({ ...options, userName: 'Renamed' });
    expect(renamed.room).not.toBe(back.room);
    await releasedAgain;

    // Nobody comes back: the room is left after LINGER_MS.
    const started = Date.now();
    await renamed.release();
    expect(Date.now() - started).toBeGreaterThanOrEqual(LINGER_MS - 50);
    expect(openMeshCount()).toBe(0);
  });

  it('refuses the same room with another password on one page', async () => {
    const held = await joinMesh({ ...base, room: `${base.room}-pw`, password: 'one' });
    await expect(joinMesh({ ...base, room: `${base.room}-pw`, password: 'two' })).rejects.toThrow(/room-conflict/);
    await held.release();
  });

  it('reports unreachable relays as failed, in plain words', { timeout: 20_000 }, async () => {
    const errors: string[] = [];
    const handle = await joinMesh({ ...base, room: `${base.room}-dead`, relayUrls: ['ws://127.0.0.1:9'], relayTimeoutMs: 1000 });
    handle.room.on('error', e => errors.push(e.code));
    const status = await nextStatus(handle.room, 'failed');
    expect(status).toEqual({ state: 'failed', reason: 'could not reach any relay (ws://127.0.0.1:9)', code: 'relay-unreachable', relays: 'ws://127.0.0.1:9' });
    expect(errors).toEqual(['relay-unreachable']);
    await handle.release();
  });
});
