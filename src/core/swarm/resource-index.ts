import type { SwarmControl } from '../wire';
import { HaveMap } from './have-map';
import { chunkCount, type Manifest } from './manifest';

/** A file this device holds (some or all chunks of). */
export interface LocalFile {
  /** The file's manifest. */
  manifest: Manifest;
  /** Which chunks are stored (verified) here. */
  have: HaveMap;
  /** Kept regardless of the cache cap (the user's own files). */
  pinned: boolean;
}

/** What a peer announced for a file. */
export interface RemoteFile {
  /** Content id. */
  cid: string;
  /** File size, bytes. */
  size: number;
  /** Chunk size, bytes. */
  chunkSize: number;
  /** Which chunks the peer said it holds. */
  have: HaveMap;
}

/** Files remembered per peer from its index and diffs; announcements beyond are ignored. */
export const MAX_REMOTE_FILES = 5000;

type IndexEntry = Extract<SwarmControl, { t: 'index' }>['files'][number];
type HaveDiff = Extract<SwarmControl, { t: 'have' }>;

/**
 * The swarm's resource index: the files this device holds (with their have-maps) and what every
 * peer announced (its full `index`, then `have` diffs and `gone`). Memory per peer is bounded by
 * {@link MAX_REMOTE_FILES} files and, per file, by its have-map (one bit per chunk of a size the
 * wire schema already bounded).
 */
export class ResourceIndex {
  private readonly local = new Map<string, LocalFile>();
  private readonly remote = new Map<string, Map<string, RemoteFile>>();

  /** The file with content id `cid` this page holds (whole or in part), if any. */
  localFile(cid: string): LocalFile | undefined {
    return this.local.get(cid);
  }

  /** Every file this page holds, whole or in part. */
  localFiles(): LocalFile[] {
    return [...this.local.values()];
  }

  /** Adds or replaces a file this page holds. */
  setLocal(file: LocalFile): void {
    this.local.set(file.manifest.cid, file);
  }

  /** Forgets a file this page no longer holds. */
  deleteLocal(cid: string): void {
    this.local.delete(cid);
  }

  /** This device's `index` message entries: every file with at least one chunk. */
  indexEntries(): IndexEntry[] {
    return this.localFiles()
      .filter(f => f.have.size)
      .map(f => ({ cid: f.manifest.cid, size: f.manifest.size, chunkSize: f.manifest.chunkSize, have: f.have.encode() }));
  }

  /** Replaces a peer's announced files with its (validated) `index`. */
  setPeerIndex(peerId: string, entries: IndexEntry[]): void {
    const files = new Map<string, RemoteFile>();
    for (const f of entries) files.set(f.cid, { cid: f.cid, size: f.size, chunkSize: f.chunkSize, have: HaveMap.decode(chunkCount(f.size, f.chunkSize), f.have) });
    this.remote.set(peerId, files);
  }

  /** Whether the peer's `index` (or a diff) has arrived. */
  knows(peerId: string): boolean {
    return this.remote.has(peerId);
  }

  /**
   * Applies a peer's `have` diff. A new size or chunk size for a known file restarts its have-map.
   * @returns false (nothing applied) when the peer already has {@link MAX_REMOTE_FILES} files listed
   */
  applyHave(peerId: string, diff: HaveDiff): boolean {
    let files = this.remote.get(peerId);
    if (!files) this.remote.set(peerId, (files = new Map()));
    let entry = files.get(diff.cid);
    if (!entry && files.size >= MAX_REMOTE_FILES) return false;
    if (!entry || entry.size !== diff.size || entry.chunkSize !== diff.chunkSize) {
      entry = { cid: diff.cid, size: diff.size, chunkSize: diff.chunkSize, have: new HaveMap(chunkCount(diff.size, diff.chunkSize)) };
      files.set(diff.cid, entry);
    }
    for (const i of diff.add) entry.have.add(i);
    return true;
  }

  /** A peer no longer holds `cid` (`gone`). */
  removeRemote(peerId: string, cid: string): void {
    this.remote.get(peerId)?.delete(cid);
  }

  /** Forgets everything a peer said it holds (it left). */
  forgetPeer(peerId: string): void {
    this.remote.delete(peerId);
  }

  /** What `peerId` announced for `cid`. */
  remoteFile(peerId: string, cid: string): RemoteFile | undefined {
    return this.remote.get(peerId)?.get(cid);
  }

  /** A peer's announced files. */
  remoteFiles(peerId: string): RemoteFile[] {
    return [...(this.remote.get(peerId)?.values() ?? [])];
  }

  /** Peers that announced at least one chunk of `cid`. */
  holders(cid: string): string[] {
    return [...this.remote.entries()].filter(([, files]) => files.get(cid)?.have.size).map(([peerId]) => peerId);
  }

  /** Have-maps of `cid` by peer, for the peers `reachable` says can be asked now. */
  peersWith(cid: string, reachable: (peerId: string) => boolean): Map<string, HaveMap> {
    const out = new Map<string, HaveMap>();
    for (const [peerId, files] of this.remote) {
      const f = files.get(cid);
      if (f && reachable(peerId)) out.set(peerId, f.have);
    }
    return out;
  }
}
