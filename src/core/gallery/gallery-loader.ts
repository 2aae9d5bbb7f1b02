/**
 * What the gallery widget imports from the gallery feature: the light parts at once, the wall on
 * demand. `GalleryWall` brings the record book, identity and Dexie; loading it in its own chunk while
 * the mesh joins lets the relay socket open sooner (see core/chat/chat-loader.ts).
 */
import type { GalleryWall, GalleryWallOptions } from './gallery-wall';
import type { Swarm } from '../swarm';
import type { FeatureMesh } from '../mesh';

export { ImageRefusedError } from './image-errors';
export { MAX_IMAGE_BYTES } from '../wire/gallery-schemas';
export type { GalleryPicture, GalleryWall } from './gallery-wall';

/** Loads the gallery code (first call only) and opens the wall: see `GalleryWall.open`. */
export async function openGalleryWall(mesh: FeatureMesh, swarm: Swarm, options: GalleryWallOptions): Promise<GalleryWall> {
  const { GalleryWall } = await import('./gallery-wall');
  return GalleryWall.open(mesh, swarm, options);
}
