import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { swarmRoom, waitUntil, type MemoryNetworkOptions } from '../testing';
import { MusicLibrary } from './music-library';
import type { PreparedTrack } from './track-prepare';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../test/fixtures/audio/${name}`, import.meta.url)));
const WAV = fixture('evening-tone.wav'); // 960 044 bytes: 15 chunks of 64 KiB
const LRC = new TextDecoder().decode(fixture('morning-tone.lrc'));
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
/** What `prepareTrack` reads from a file in a browser (tags, duration). */
const TAGS: PreparedTrack = { mime: 'audio/wav', title: 'Evening tone', artist: 'Test band', album: 'Tones', fileName: 'evening-tone.wav', duration: 10 };

const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach(f => f()));

/** Peers `ids`, all connected, each with a swarm and a library (memory stores; see core/testing swarmRoom). */
async function room(ids: string[], options: MemoryNetworkOptions = {}) {
  const r = await swarmRoom(ids, (peer, swarm) => MusicLibrary.open(peer, swarm, { room: 'app\nroom', userName: `name-${peer.selfId}`, database: null }), options);
  cleanup.push(r.destroy);
  return { ...r, members: r.members.map(m => ({ swarm: m.swarm, library: m.feature })) };
}

const waitFor = waitUntil;

describe('MusicLibrary on the in-memory network', () => {
  it('lists a shared track everywhere with its tags, streams its bytes, and carries its owner’s lyrics only', async () => {
    const { members: [a, b, c] } = await room(['a', 'b', 'c']);
    const track = await a.library.addPrepared(new Blob([WAV as BlobPart]), TAGS);
    await waitFor(() => b.library.tracks().length === 1 && c.library.tracks().length === 1);
    expect(b.library.tracks()[0]).toMatchObject({ cid: track.cid, title: 'Evening tone', artist: 'Test band', own: false, holders: ['name-a'], offline: false });
    const source = b.library.source(track.cid);
    expect(sameBytes(await source.read(0, source.size), WAV)).toBe(true);
    await a.library.attach(track.key, { lyrics: LRC });
    await waitFor(() => c.library.tracks()[0]?.lyrics === LRC);
    await expect(c.library.attach(track.key, { lyrics: 'not mine' })).rejects.toThrow(/only the owner/);
    // b now holds a copy: c lists both holders.
    await waitFor(() => c.library.tracks()[0]?.holders.length === 2);
  });

  it('finishes a track from another holder when the sharer leaves mid-download', async () => {
    const { network, peers: [pa], members: [a, b, c] } = await room(['a', 'b', 'c'], { latencyMs: [2, 6], seed: 2, bytesPerMs: 2000 });
    const track = await a.library.addPrepared(new Blob([WAV as BlobPart]), TAGS);
    await waitFor(() => b.library.tracks().length === 1 && c.library.tracks().length === 1);
    await b.library.source(track.cid).read(0, WAV.byteLength);
    await waitFor(() => c.library.tracks()[0]?.holders.length === 2);
    const source = c.library.source(track.cid);
    const download = c.swarm.download(track.cid);
    await waitFor(() => download.progress().chunks >= 2);
    expect(download.progress().chunks).toBeLessThan(15);
    network.leave(pa);
    expect(sameBytes(await source.read(0, source.size), WAV)).toBe(true);
    // a left: its track stays listed (b holds it), with b as its only holder.
    await waitFor(() => c.library.tracks()[0]?.holders.join() === 'name-b');
  });

  it('a peer that missed a removal live learns it from a holder when it comes back', async () => {
    const { network, peers: [pa, pb, pc], members: [a, b, c] } = await room(['a', 'b', 'c']);
    const track = await a.library.addPrepared(new Blob([WAV as BlobPart]), TAGS);
    await waitFor(() => b.library.tracks().length === 1 && c.library.tracks().length === 1);
    await b.library.source(track.cid).read(0, WAV.byteLength); // b and c hold copies (c lists the track while away)
    await c.library.source(track.cid).read(0, WAV.byteLength);
    network.disconnect(pc, pa);
    network.disconnect(pc, pb);
    await a.library.untrack(track.key);
    await waitFor(() => b.library.tracks().length === 0);
    expect(c.library.tracks()).toHaveLength(1); // c was away
    network.connect(pc, pb); // b answers c's query with the removal
    await waitFor(() => c.library.tracks().length === 0);
  });

  it('does not rebuild its list on roster events that change no id or name (RTT updates)', async () => {
    const { peers: [pa], members: [a] } = await room(['a', 'b']);
    await a.library.addPrepared(new Blob([WAV as BlobPart]), TAGS);
    const changes = vi.fn();
    a.library.on('change', changes);
    const roster = pa.peerList();
    const emit = (pa as unknown as { emitter: { emit(e: string, p: unknown): void } }).emitter;
    emit.emit('roster', roster); // the library learns the current roster (it may have missed it)
    changes.mockClear();
    for (let i = 0; i < 20; i++) emit.emit('roster', roster.map(p => ({ ...p, rttMs: i })));
    expect(changes).not.toHaveBeenCalled();
    // A new name does (holders are shown by name).
    emit.emit('roster', roster.map(p => ({ ...p, name: 'renamed' })));
    expect(changes).toHaveBeenCalledTimes(1);
  });

  it('refuses a forged record and leaves no timer running when the widget is removed mid-download', async () => {
    const { members: [a, b] } = await room(['a', 'b'], { latencyMs: [2, 6], seed: 3, bytesPerMs: 2000 });
    const track = await a.library.addPrepared(new Blob([WAV as BlobPart]), TAGS);
    await waitFor(() => b.library.tracks().length === 1);
    const forged = { ...(await firstRecord(a.library)), title: 'Changed by someone else' };
    expect(await b.library.ingest(forged as never)).toBe(false);
    expect(b.library.refused['bad-signature'] + b.library.refused.duplicate).toBe(1);
    b.library.source(track.cid);
    const download = b.swarm.download(track.cid);
    await waitFor(() => download.progress().chunks >= 1);
    b.library.destroy();
    b.swarm.destroy();
    await expect(download.done).rejects.toThrow(/cancelled/);
    expect(b.swarm.liveTimers()).toBe(0);
  });
});

/** The signed `track` record a library holds (as peers receive it). */
async function firstRecord(library: MusicLibrary): Promise<Record<string, unknown>> {
  const book = (library as unknown as { book: { all(): IterableIterator<Record<string, unknown>> } }).book;
  const wire = [...book.all()][0];
  return { ...wire, seq: (wire.seq as number) + 1 };
}
