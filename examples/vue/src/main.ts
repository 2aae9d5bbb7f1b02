import { createApp } from 'vue';
import App from './App.vue';

// Optional overrides from the address (?room=…&relay=ws://…&ice=[]): the tests point the
// widget at a local relay this way. Without them it meets on Trystero's public relays.
const query = new URLSearchParams(location.search);

createApp(App, {
  room: query.get('room') ?? 'vue-example',
  userName: query.get('name') ?? 'Reader',
  relayUrls: query.get('relay') ?? undefined,
  iceServers: query.get('ice') ?? undefined,
}).mount('#app');
