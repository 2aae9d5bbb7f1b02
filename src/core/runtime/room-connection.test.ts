import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { installNodeWebSocket } from '../testing';
import { startRelay, type ServerProcess } from '../../../test/harness/processes.mjs';
import { AttributeError, type SharedAttributes } from '../config';
import type { MeshStatus } from '../mesh';
import type { Swarm } from '../swarm';
import { RoomConnection, type FeatureContext } from './room-connection';
import type { P2pErrorCode } from './error-codes';

/**
 * RoomConnection in Node against a real local Nostr relay (Trystero over `ws`, node-datachannel as
 * RTCPeerConnection): the sequence every widget runs, with a stand-in feature whose opening the
 * test controls.
 */
describe('RoomConnection', () => {
  let relay: ServerProcess;
  const page = { location: { origin: 'https://blog.example', pathname: '/post', host: 'blog.example' }, storage: null };
  let attributes: SharedAttributes;

  beforeAll(async () => {
    installNodeWebSocket();
    (globalThis as any).RTCPeerConnection ??= RTCPeerConnection;
    relay = await startRelay();
    attributes = { appId: 'room-connection-test', room: `room-${Date.now()}`, relayUrls: relay.url, iceServers: '[]', userName: 'Node' };
  });

  afterAll(async () => {
    await relay?.stop();
  });

  /** A widget's view of the connection: what it was told, and a feature it opens on demand. */
  function widget() {
    const seen = { errors: [] as P2pErrorCode[], statuses: [] as MeshStatus['state'][], opened: 0, unsubscribed: 0, contexts: [] as FeatureContext[] };
    let release: () => void = () => undefined;
    const gate = new Promise<void>(resolve => (release = resolve));
    const feature = { destroy: vi.fn() };
    const connection = new RoomConnection(
      async context => {
        seen.contexts.push(context);
        await gate;
        return feature;
      },
      {
        error: code => seen.errors.push(code),
        status: s => seen.statuses.push(s.state),
        opened: () => {
          seen.opened++;
          return [() => seen.unsubscribed++];
        },
      },
    );
    return { connection, seen, feature, open: () => release() };
  }

  it('reports a bad attribute as bad-attribute with a failed status, opens nothing, and ready() answers null', async () => {
    const w = widget();
    await w.connection.connect({ ...attributes, strategy: 'carrier-pigeon' }, page);
    expect(w.seen.errors).toEqual(['bad-attribute']);
    expect(w.seen.statuses).toEqual(['failed']);
    expect(w.seen.contexts).toHaveLength(0);
    expect(await w.connection.ready(1000)).toBeNull();
    expect(w.connection.mesh).toBeNull();
  });

  it('a widget check that throws counts as a bad attribute too', async () => {
    const w = widget();
    await w.connection.connect({ ...attributes, room: `${attributes.room}-check` }, page, () => {
      throw new AttributeError('max-size', 'max-size must look like 20MB');
    });
    expect(w.seen.errors).toEqual(['bad-attribute']);
  });

  it('joins, opens the feature with the room key, and ready() resolves with it; disconnect undoes it all', async () => {
    const w = widget();
    const ready = w.connection.ready(10_000);
    const connecting = w.connection.connect(attributes, page);
    await vi.waitFor(() => expect(w.seen.contexts).toHaveLength(1), { timeout: 10_000 });
    expect(w.seen.contexts[0].roomKey).toBe(`room-connection-test\n${attributes.room}`);
    expect(w.seen.contexts[0].options.userName).toBe('Node');
    w.open();
    await connecting;
    expect(await ready).toBe(w.feature);
    expect(w.connection.feature).toBe(w.feature);
    expect(w.seen.opened).toBe(1);
    expect(w.connection.mesh?.status.state).not.toBe('failed');
    w.connection.disconnect();
    expect(w.feature.destroy).toHaveBeenCalledOnce();
    expect(w.seen.unsubscribed).toBe(1);
    expect(w.connection.mesh).toBeNull();
    expect(w.connection.feature).toBeNull();
  });

  it('a widget removed while its feature was opening destroys the feature when it arrives and never installs it', async () => {
    const w = widget();
    const connecting = w.connection.connect({ ...attributes, room: `${attributes.room}-removed` }, page);
    await vi.waitFor(() => expect(w.seen.contexts).toHaveLength(1), { timeout: 10_000 });
    w.connection.disconnect();
    w.open();
    await connecting;
    expect(w.feature.destroy).toHaveBeenCalledOnce();
    expect(w.seen.opened).toBe(0);
    expect(w.connection.feature).toBeNull();
    expect(w.seen.errors).toEqual([]);
  });

  it('the same room open with another password is a room-conflict', async () => {
    const first = widget();
    const second = widget();
    const room = `${attributes.room}-pw`;
    const joining = first.connection.connect({ ...attributes, room, password: 'one' }, page);
    await vi.waitFor(() => expect(first.seen.contexts).toHaveLength(1), { timeout: 10_000 });
    await second.connection.connect({ ...attributes, room, password: 'two' }, page);
    expect(second.seen.errors).toEqual(['room-conflict']);
    expect(await second.connection.ready(1000)).toBeNull();
    first.open();
    await joining;
    first.connection.disconnect();
  });

  it('shares one swarm between the widgets of a room, with the largest cache cap asked, and destroys it with the last', async () => {
    const room = `${attributes.room}-swarm`;
    const swarms: Swarm[] = [];
    const open = (cacheBytes: number) =>
      new RoomConnection(async ({ swarm }) => {
        const s = await swarm({ cacheBytes, database: null });
        swarms.push(s);
        return { destroy: () => undefined };
      }, { error: () => undefined });
    const [a, b] = [open(1e6), open(5e6)];
    await a.connect({ ...attributes, room }, page);
    await b.connect({ ...attributes, room }, page);
    expect(swarms).toHaveLength(2);
    expect(swarms[0]).toBe(swarms[1]);
    expect((swarms[0] as any).o.cacheBytes).toBe(5e6);
    a.disconnect();
    expect((swarms[0] as any).destroyed).toBe(false);
    b.disconnect();
    expect((swarms[0] as any).destroyed).toBe(true);
  });
});
