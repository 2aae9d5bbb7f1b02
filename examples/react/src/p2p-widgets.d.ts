/**
 * Types the p2p-widgets tags in React's JSX, from the element types Stencil generates.
 *
 * Stencil names event props `onP2pMessage`; React 19 attaches a listener for exactly the
 * name after `on`, so here the props are `onp2pMessage`, `onp2pError`, … and the handler
 * receives the DOM `CustomEvent` with its typed `detail`.
 */
import type { JSX as P2pWidgets } from 'p2p-widgets';
import type { DetailedHTMLProps, HTMLAttributes } from 'react';

/** `onP2pMessage` → `onp2pMessage`; other props unchanged. */
type ReactEventNames<Props> = {
  [K in keyof Props as K extends `on${infer Event}` ? `on${Uncapitalize<Event>}` : K]: Props[K];
};

/** A widget's own props and events, plus what React allows on any element (key, ref, className, style, …). */
type WidgetProps<Props, Element> = ReactEventNames<Props> & DetailedHTMLProps<HTMLAttributes<Element>, Element>;

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'p2p-chat': WidgetProps<P2pWidgets.P2pChat, HTMLP2pChatElement>;
      'p2p-gallery': WidgetProps<P2pWidgets.P2pGallery, HTMLP2pGalleryElement>;
      'p2p-music': WidgetProps<P2pWidgets.P2pMusic, HTMLP2pMusicElement>;
    }
  }
}
