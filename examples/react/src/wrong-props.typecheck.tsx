// Not part of the app: proves the typings in p2p-widgets.d.ts are checked (not `any`).
// `tsc --noEmit` fails if any line below stops being an error ("unused @ts-expect-error").
import './p2p-widgets';

export const wrong = (
  <>
    {/* @ts-expect-error max-length is a number */}
    <p2p-chat maxLength="many" />
    {/* @ts-expect-error theme is light, dark or auto */}
    <p2p-chat theme="purple" />
    {/* @ts-expect-error no such prop */}
    <p2p-chat rooom="typo" />
    {/* @ts-expect-error Stencil's casing: React would listen to "P2pMessage", which never fires */}
    <p2p-chat onP2pMessage={() => undefined} />
    <p2p-chat
      onp2pMessage={event => {
        // @ts-expect-error detail.text is a string
        const n: number = event.detail.text;
        return n;
      }}
    />
    {/* @ts-expect-error p2p-gallery has no max-length */}
    <p2p-gallery maxLength={10} />
    {/* @ts-expect-error autoplay is a boolean */}
    <p2p-music autoplay="yes" />
  </>
);
