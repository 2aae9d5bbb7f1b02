import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { swarmRoom, waitUntil, type MemoryNetworkOptions } from '../testing';
import { galleryRecordMessage, PROTOCOL_VERSION } from '../wire';
import { headerDimensions } from '../wire/image-check';
import { GalleryWall } from './gallery-wall';
import type { PreparedImage } from './image-prepare';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../test/fixtures/images/${name}`, import.meta.url)));
const LAKE = fixture('lake.png');
const THUMB = fixture('forest.webp');
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** A picture as `prepareImage` would hand it over (it needs a browser): the PNG padded to `size` bytes (decoders ignore trailing bytes), a real WebP thumbnail. */
function prepared(size = LAKE.byteLength): { image: PreparedImage; bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  bytes.set(LAKE);
  for (let i = LAKE.byteLength; i < size; i++) bytes[i] = (i * 31) & 0xff;
  const { width, height } = headerDimensions(LAKE)!;
  return { image: { blob: new Blob([bytes as BlobPart], { type: 'image/png' }), mime: 'image/png', width, height, thumb: THUMB, metadataRemoved: false }, bytes };
}

const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach(f => f()));

/** Peers `ids`, all connected, each with a swarm and a wall (memory stores; see core/testing swarmRoom). */
async function room(ids: string[], options: MemoryNetworkOptions = {}) {
  const r = await swarmRoom(ids, (peer, swarm) => GalleryWall.open(peer, swarm, { room: 'app\nroom', userName: `name-${peer.selfId}`, database: null }), options);
  cleanup.push(r.destroy);
  return { ...r, members: r.members.map(m => ({ swarm: m.swarm, wall: m.feature })) };
}

const waitFor = waitUntil;

describe('GalleryWall on the in-memory network', () => {
  it('shows a shared picture on every wall, serves it verified, and honours only the owner’s removal', async () => {
    const { members: [a, b, c], peers: [, , pc] } = await room(['a', 'b', 'c']);
    const { image, bytes } = prepared();
    const { picture } = await a.wall.sharePrepared(image, 'a lake');
    await waitFor(() => b.wall.list().length === 1 && c.wall.list().length === 1);
    expect(b.wall.list()[0]).toMatchObject({ key: picture.key, userName: 'name-a', alt: 'a lake', mime: 'image/png', own: false });
    expect(sameBytes(b.wall.list()[0].thumb, THUMB)).toBe(true);
    const full = await b.wall.fullImage(picture.key);
    expect(sameBytes(new Uint8Array(await full.arrayBuffer()), bytes)).toBe(true);

    // c forges a removal of a's picture (a's key as author, c cannot sign for it): refused.
    const forged = { kind: 'remove', author: a.wall.publicKey, seq: 99, ts: Date.now(), target: Number(picture.key.split(':')[1]), sig: 'A'.repeat(86) };
    await pc.channel(galleryRecordMessage).send({ v: PROTOCOL_VERSION, record: forged as never });
    await waitFor(() => b.wall.stats().refused['bad-signature'] >= 1);
    expect(b.wall.list()).toHaveLength(1);
    // The owner's removal is honoured everywhere, and the downloaded copy is dropped.
    await a.wall.remove(picture.key);
    await waitFor(() => b.wall.list().length === 0 && c.wall.list().length === 0);
    await waitFor(() => b.swarm.localFile(picture.cid) === null);
  });

  it('finishes a picture from another holder when the sharer leaves mid-download', async () => {
    const { network, peers: [pa], members: [a, b, c] } = await room(['a', 'b', 'c'], { latencyMs: [2, 6], seed: 4, bytesPerMs: 5000 });
    const { image, bytes } = prepared(3 * 1024 * 1024); // 12 chunks of 256 KiB
    const { picture } = await a.wall.sharePrepared(image);
    await waitFor(() => b.wall.list().length === 1 && c.wall.list().length === 1);
    await b.wall.fullImage(picture.key);
    await waitFor(() => c.swarm.holders(picture.cid).length === 2);
    const download = c.wall.open(picture.key)!;
    await waitFor(() => download.progress().chunks >= 2);
    expect(download.progress().chunks).toBeLessThan(12);
    network.leave(pa);
    const full = await c.wall.fullImage(picture.key);
    expect(sameBytes(new Uint8Array(await full.arrayBuffer()), bytes)).toBe(true);
  });

  it('leaves no timer running when the widget is removed mid-download', async () => {
    const { members: [a, b] } = await room(['a', 'b'], { latencyMs: [2, 6], seed: 6, bytesPerMs: 5000 });
    const { image } = prepared(3 * 1024 * 1024);
    const { picture } = await a.wall.sharePrepared(image);
    await waitFor(() => b.wall.list().length === 1);
    const download = b.wall.open(picture.key)!;
    await waitFor(() => download.progress().chunks >= 1);
    b.wall.destroy();
    b.swarm.destroy();
    await expect(download.done).rejects.toThrow(/cancelled/);
    expect(b.swarm.liveTimers()).toBe(0);
  });

  it('refuses a picture record whose thumbnail is not a picture, even its own', async () => {
    const { members: [a, b] } = await room(['a', 'b']);
    await expect(a.wall.sharePrepared({ ...prepared().image, thumb: fixture('not-a-picture.jpg') })).rejects.toThrow(/refused/);
    expect(a.wall.stats().refused['bad-thumbnail']).toBe(1);
    expect(a.wall.list()).toHaveLength(0);
    await new Promise(r => setTimeout(r, 50));
    expect(b.wall.list()).toHaveLength(0);
  });
});
