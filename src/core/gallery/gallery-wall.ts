import { fromBase64Url, toBase64Url } from '../identity';
import type { FeatureMesh } from '../mesh';
import type { P2pDatabase, StorageError } from '../store';
import type { Download, Swarm, TransferProgress } from '../swarm';
import { galleryQueryMessage, galleryRecordMessage, galleryWallMessage, type GalleryRecordWire, type ImageType } from '../wire';
import { galleryRecordKind } from './gallery-record';
import { isAcceptableThumbnail } from '../wire/image-check';
import { prepareImage, type PreparedImage } from './image-prepare';
import { RecordBook, RecordFeature, recordKey, targetKey, type RecordRefusal } from '../records';

/** Records kept per room on this device (all authors and kinds): a bound on what strangers can make us store. */
const MAX_RECORDS = 5000;
/** What the visitor is told when the wall's own rules refused a change of theirs. */
const REFUSED = 'the wall refused this change (too many pictures?)';

/** A picture on the wall. */
export interface GalleryPicture {
  /** `author:seq` of its `pic` record. */
  key: string;
  /** The sharer's per-room public key (base64url). */
  author: string;
  /** The sharer's sequence number of the `pic` record. */
  seq: number;
  /** Sharer's display name. */
  userName: string;
  /** When it was shared, ms since epoch. */
  ts: number;
  /** Content id of the full picture (SHA-256 root hash, base64url). */
  cid: string;
  /** Size of the full picture, bytes. */
  size: number;
  /** The picture's type (sniffed from its bytes when it was shared). */
  mime: ImageType;
  /** Width, px. */
  width: number;
  /** Height, px. */
  height: number;
  /** Alt text: the newest the owner set ('' for none). */
  alt: string;
  /** WebP thumbnail bytes. */
  thumb: Uint8Array;
  /** Shared from this device. */
  own: boolean;
  /** The full picture is on this device. */
  cached: boolean;
  /** Peers currently holding the full picture. */
  holders: number;
}

/** Why a gallery record was refused: the record book's reasons (see core/records) or a thumbnail that is not a small WebP/PNG/JPEG. */
export type GalleryRefusal = RecordRefusal | 'bad-thumbnail';

/** Events of a {@link GalleryWall}. */
export interface GalleryWallEvents {
  /** The visible pictures changed (the new list, newest first). */
  change: (pictures: readonly GalleryPicture[]) => void;
  /** A picture appeared (shared here or by a peer). */
  add: (picture: GalleryPicture) => void;
  /** A write failed (quota, storage gone). */
  error: (error: StorageError) => void;
}

/** How a gallery wall is opened: the room key (`${appId}\n${room}`) and the visitor's name. */
export interface GalleryWallOptions {
  /** The room key: records are signed for it and stored under it. */
  room: string;
  /** The visitor's display name, put in each picture it shares. */
  userName: string;
  /** Pictures one author may have on the wall; more are refused. Default 200. */
  maxPerAuthor?: number;
  /** undefined: the page's shared database; null: memory only. */
  database?: P2pDatabase | null;
  /** Clock for authored records, ms since epoch; default `Date.now`. */
  now?: () => number;
}

/**
 * The shared picture wall of a room: signed `pic` records (with a thumbnail) that
 * every peer keeps and passes on, full pictures moved by the swarm, alt text and
 * removal by the owner only. A picture is shown while it is this device's own,
 * cached here, or held by a peer in the room.
 */
export class GalleryWall extends RecordFeature<GalleryRecordWire, GalleryRefusal, GalleryWallEvents> {
  private pictures: GalleryPicture[] = [];
  /** Pictures `add` was emitted for. */
  private readonly announced = new Set<string>();

  private constructor(
    mesh: FeatureMesh,
    /** The room's swarm: it holds and moves the full pictures. */
    readonly swarm: Swarm,
    book: RecordBook<GalleryRecordWire, GalleryRefusal>,
    options: GalleryWallOptions,
  ) {
    // Ask the holder: a joining peer is asked for the pictures it holds; this device answers with its own and cached ones (`held`).
    super({
      book,
      userName: options.userName,
      exchange: { mesh, messages: { record: galleryRecordMessage, list: galleryWallMessage, query: galleryQueryMessage }, batch: { maxRecords: 12, maxBytes: 900 * 1024 } },
    });
    this.offs.push(
      swarm.on('index', () => this.refresh()),
      swarm.on('complete', () => this.refresh()),
    );
    this.refresh();
  }

  /**
   * Opens the wall of a room: loads what this device stored, then asks the peers for theirs. Pictures
   * are `pic` records; `alt` (the newest wins) and `remove` amend their author's own picture only.
   * @throws Error when WebCrypto cannot make or load the visitor's key pair
   */
  static async open(mesh: FeatureMesh, swarm: Swarm, options: GalleryWallOptions): Promise<GalleryWall> {
    const book = await RecordBook.open<GalleryRecordWire, GalleryRefusal>({
      feature: 'gallery',
      kind: galleryRecordKind,
      room: options.room,
      database: options.database,
      maxRecords: MAX_RECORDS,
      maxPerAuthor: options.maxPerAuthor ?? 200,
      amends: r => r.kind !== 'pic',
      retires: r => r.kind === 'remove',
      // One slot per picture, and one per picture for its alt text and for its removal: an older alt text is a duplicate.
      slot: r => (r.kind === 'pic' ? recordKey(r) : `${r.kind}:${targetKey(r)}`),
      check: async r => (r.kind === 'pic' && !(await isAcceptableThumbnail(fromBase64Url(r.thumb)).catch(() => false)) ? 'bad-thumbnail' : null),
      now: options.now,
    });
    return new GalleryWall(mesh, swarm, book, options);
  }

  /** The visible pictures, newest first. */
  list(): readonly GalleryPicture[] {
    return this.pictures;
  }

  /**
   * Shares a picture: checks and prepares it (see `prepareImage`), adds it to the swarm
   * (pinned: the user's own), signs and announces its record.
   * @throws ImageRefusedError in plain words
   */
  async share(file: Blob, options: { keepMetadata?: boolean; maxBytes: number; alt?: string }): Promise<{ picture: GalleryPicture; metadataRemoved: boolean }> {
    return this.sharePrepared(await prepareImage(file, options), options.alt);
  }

  /**
   * Shares a picture already prepared (re-encoded, thumbnail made: see `prepareImage`, which needs a
   * browser): adds it to the swarm (pinned), signs and announces its record. `alt` is cut at 1000 characters.
   */
  async sharePrepared(prepared: PreparedImage, alt = ''): Promise<{ picture: GalleryPicture; metadataRemoved: boolean }> {
    const manifest = await this.swarm.add(prepared.blob, { mime: prepared.mime, pinned: true });
    const record = await this.author({
      kind: 'pic',
      name: this.userName,
      cid: manifest.cid,
      size: manifest.size,
      mime: prepared.mime,
      width: prepared.width,
      height: prepared.height,
      alt: alt.slice(0, 1000),
      thumb: toBase64Url(prepared.thumb),
    }, REFUSED);
    const picture = this.pictures.find(p => p.key === recordKey(record));
    if (!picture) throw new Error('the picture could not be added to the wall');
    return { picture, metadataRemoved: prepared.metadataRemoved };
  }

  /** Starts fetching the full picture (or finds it here). */
  open(key: string): Download | null {
    const pic = this.picture(key);
    if (!pic) return null;
    if (this.swarm.isComplete(pic.cid)) return null;
    return this.swarm.download(pic.cid);
  }

  /** The full picture as a Blob, waiting for its download. */
  async fullImage(key: string, onProgress?: (p: TransferProgress) => void): Promise<Blob> {
    const pic = this.picture(key);
    if (!pic) throw new Error('unknown picture');
    const download = this.open(key);
    if (download) {
      const off = onProgress ? download.on('progress', onProgress) : null;
      try {
        await download.done;
      } finally {
        off?.();
      }
    }
    const bytes = await this.swarm.read(pic.cid, 0, pic.size);
    this.refresh();
    return new Blob([bytes as BlobPart], { type: pic.mime });
  }

  /** Changes the alt text of one of this device's pictures. */
  async setAlt(key: string, alt: string): Promise<void> {
    const pic = this.picture(key);
    if (!pic || pic.author !== this.publicKey) throw new Error('only the owner can change the alt text');
    await this.author({ kind: 'alt', target: pic.seq, alt: alt.slice(0, 1000) }, REFUSED);
  }

  /** Removes one of this device's pictures for everyone (a signed removal; peers stop serving it). */
  async remove(key: string): Promise<void> {
    const pic = this.picture(key);
    if (!pic || pic.author !== this.publicKey) throw new Error('only the owner can remove a picture');
    await this.author({ kind: 'remove', target: pic.seq }, REFUSED);
  }

  /** Counters of refused records. */
  stats() {
    return { refused: { ...this.refused } };
  }

  /** The `pic` record with this key (`author:seq`) while it is on the wall (not removed). */
  private picture(key: string): Extract<GalleryRecordWire, { kind: 'pic' }> | null {
    const r = this.book.get(key);
    return r?.kind === 'pic' && !this.book.isRetired(key) ? r : null;
  }

  /** The newest alt text of a picture, when its author amended it. */
  private altOf(key: string): Extract<GalleryRecordWire, { kind: 'alt' }> | undefined {
    let newest: Extract<GalleryRecordWire, { kind: 'alt' }> | undefined;
    for (const a of this.book.amendmentsOf(key)) if (a.kind === 'alt' && (!newest || a.seq > newest.seq)) newest = a;
    return newest;
  }

  /** A record was accepted: a removal drops the picture's bytes when no other picture uses them. */
  protected accepted(record: GalleryRecordWire): void {
    const target = record.kind === 'remove' ? this.book.get(targetKey(record)) : undefined;
    if (target?.kind === 'pic') {
      const cid = target.cid;
      const stillUsed = [...this.book.all()].some(r => r.kind === 'pic' && r.cid === cid && !this.book.isRetired(recordKey(r)));
      if (!stillUsed && this.swarm.localFile(cid)) void this.swarm.drop(cid).catch(() => undefined);
    }
    this.refresh();
  }

  private refresh(): void {
    const pictures: GalleryPicture[] = [];
    const unheld: string[] = [];
    for (const r of this.book.all()) {
      if (r.kind !== 'pic') continue;
      const key = recordKey(r);
      if (this.book.isRetired(key)) continue;
      const own = r.author === this.publicKey;
      const cached = this.swarm.isComplete(r.cid);
      const holders = this.swarm.holders(r.cid).length;
      if (!own && !cached && holders === 0) {
        unheld.push(r.cid);
        continue;
      }
      pictures.push({
        key,
        author: r.author,
        seq: r.seq,
        userName: r.name,
        ts: r.ts,
        cid: r.cid,
        size: r.size,
        mime: r.mime,
        width: r.width,
        height: r.height,
        alt: this.altOf(key)?.alt ?? r.alt ?? '',
        thumb: fromBase64Url(r.thumb),
        own,
        cached,
        holders,
      });
    }
    // Partial mesh: holders may be further away than the links; asking the room shows their pictures when they answer.
    this.swarm.seekHolders(unheld);
    pictures.sort((a, b) => b.ts - a.ts || (a.key < b.key ? -1 : 1));
    this.pictures = pictures;
    this.emitter.emit('change', pictures);
    // A picture becomes visible when its record or a holder's index arrives, in either order: announce it once.
    for (const p of pictures) {
      if (this.announced.has(p.key)) continue;
      this.announced.add(p.key);
      this.emitter.emit('add', p);
    }
  }

  /** What this device answers a query with: the pictures it holds (own or cached) or knows a holder of (a linked peer, or a page further away that said so), with their newest alt text, and removals. */
  protected held(): GalleryRecordWire[] {
    const records: GalleryRecordWire[] = [];
    for (const r of this.book.all()) {
      if (r.kind !== 'pic') continue;
      const key = recordKey(r);
      const removal = this.book.amendmentsOf(key).find(a => a.kind === 'remove');
      if (removal) {
        records.push(removal);
        continue;
      }
      // Held here, or by a page this one knows of: in a partial mesh a newcomer's neighbours may
      // hold none of the files, and the records must still reach it (it then asks who holds them).
      if (r.author !== this.publicKey && !this.swarm.isComplete(r.cid) && this.swarm.holders(r.cid).length === 0) continue;
      records.push(r);
      const alt = this.altOf(key);
      if (alt) records.push(alt);
    }
    return records;
  }
}
