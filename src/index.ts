/**
 * p2p-widgets: embeddable peer-to-peer web components.
 * The core modules are exported for advanced use (custom widgets over the same mesh).
 */
export * from './core/mesh';
export * from './core/chat';
export type { WireStats, DropReason } from './core/wire';
export type { P2pMessageDetail, P2pPeerDetail, P2pErrorDetail } from './components/p2p-chat/chat-event-details';
export type { P2pImageDetail, P2pGalleryErrorDetail, P2pGalleryStats } from './components/p2p-gallery/gallery-event-details';
export type { P2pTrackDetail, P2pMusicErrorDetail, P2pPlayerState, P2pMusicStats } from './components/p2p-music/music-event-details';
// The generated element types: `Components.P2pChat` (props and methods) and `JSX.P2pChat`
// (props and Stencil-style `onP2pMessage` handlers), for typing the tags in React, Vue and friends.
export type { Components, JSX } from './components';
