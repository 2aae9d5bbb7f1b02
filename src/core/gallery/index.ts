/** gallery: the shared picture wall (records, checks, preparation), over mesh, swarm, store and identity. */
export { GalleryWall } from './gallery-wall';
export type { GalleryPicture, GalleryRefusal, GalleryWallEvents, GalleryWallOptions } from './gallery-wall';
export { prepareImage, ImageRefusedError, THUMB_SIDE } from './image-prepare';
export type { PreparedImage } from './image-prepare';
export { sniffImageType, headerDimensions, isAcceptableThumbnail, MAX_THUMB_SIDE } from '../wire/image-check';
export { gallerySigningBytes, signGalleryRecord, verifyGalleryRecord, GALLERY_SIGNING_TAG } from './gallery-record';
export { MAX_IMAGE_BYTES } from '../wire';
