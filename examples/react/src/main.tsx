import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';

// Optional overrides from the address (?room=…&relay=ws://…&ice=[]): the tests point the
// widget at a local relay this way. Without them it meets on Trystero's public relays.
const query = new URLSearchParams(location.search);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App room={query.get('room') ?? 'react-example'} userName={query.get('name') ?? 'Reader'} relayUrls={query.get('relay') ?? undefined} iceServers={query.get('ice') ?? undefined} />
  </StrictMode>,
);
