// Defines <p2p-chat> before React renders it, so React 19 sets its props as properties.
import 'p2p-widgets/components/p2p-chat.js';
import type { P2pMessageDetail } from 'p2p-widgets';
import { useState } from 'react';

export interface AppProps {
  room: string;
  userName: string;
  relayUrls?: string;
  iceServers?: string;
}

/** A page with a chat and, beside it, what React heard from it through `p2pMessage`. */
export function App({ room, userName, relayUrls, iceServers }: AppProps) {
  const [heard, setHeard] = useState<P2pMessageDetail[]>([]);
  const [peers, setPeers] = useState(0);

  return (
    <main>
      <h1>Chat in React</h1>
      <p2p-chat
        room={room}
        userName={userName}
        relayUrls={relayUrls}
        iceServers={iceServers}
        maxLength={500}
        theme="light"
        style={{ '--p2p-height': '360px' } as React.CSSProperties}
        // React 19 adds a listener for the exact name after `on`: the event is `p2pMessage`.
        onp2pMessage={event => {
          const message = event.detail; // P2pMessageDetail
          if (!message.own) setHeard(previous => [...previous, message]);
        }}
        onp2pPeerJoin={() => setPeers(n => n + 1)}
        onp2pPeerLeave={() => setPeers(n => Math.max(0, n - 1))}
        onp2pError={event => console.warn(`p2p-chat: ${event.detail.code}`, event.detail.message)}
      />
      <h2>
        Heard in the room ({peers} {peers === 1 ? 'peer' : 'peers'})
      </h2>
      <ul aria-label="Heard in the room">
        {heard.map(message => (
          <li key={message.id}>
            {message.userName}: {message.text}
          </li>
        ))}
      </ul>
    </main>
  );
}
