// Importing a tag's module from `p2p-widgets/components/` defines that tag (and only that one):
// the bundler ships p2p-chat's code and leaves the gallery and music out.
import 'p2p-widgets/components/p2p-chat.js';
import type { P2pMessageDetail } from 'p2p-widgets';

// Optional overrides from the address (?room=…&relay=ws://…&ice=[]): the tests point the
// widget at a local relay this way. Without them it meets on Trystero's public relays.
const query = new URLSearchParams(location.search);

const chat = document.createElement('p2p-chat'); // typed: HTMLP2pChatElement
chat.room = query.get('room') ?? 'bundler-example';
chat.userName = query.get('name') ?? 'Reader';
chat.maxLength = 500;
const relay = query.get('relay');
if (relay) chat.relayUrls = relay;
const ice = query.get('ice');
if (ice) chat.iceServers = ice;

const heard = document.querySelector<HTMLUListElement>('#heard')!;
function show({ userName, text }: P2pMessageDetail): void {
  const item = document.createElement('li');
  item.textContent = `${userName}: ${text}`;
  heard.append(item);
}

// `event` is a P2pChatCustomEvent<P2pMessageDetail>: the tag's event map comes with the import above.
chat.addEventListener('p2pMessage', event => {
  if (!event.detail.own) show(event.detail);
});
chat.addEventListener('p2pError', event => console.warn(`p2p-chat: ${event.detail.code}`, event.detail.message));

/** Puts a widget where the page keeps it; a widget is an `HTMLElement` like any other. */
function mount(widget: HTMLElement): void {
  document.querySelector('#chat')!.append(widget);
}
mount(chat);
