/** Languages the widgets speak (attribute `lang`). */
export type Lang = 'en' | 'zh-CN';

const en = {
  messageLabel: 'Message',
  send: 'Send',
  peersHeading: 'In the room',
  you: 'you',
  noPeers: 'Nobody else is here yet.',
  statusConnecting: 'Connecting to relays…',
  statusWaiting: 'Waiting for peers…',
  statusConnected: (n: number) => (n === 1 ? 'Connected to 1 peer' : `Connected to ${n} peers`),
  statusFailed: (why: string) => `Connection failed: ${why}`,
  joined: (name: string) => `${name} joined`,
  left: (name: string) => `${name} left`,
  someone: 'Someone',
  tooLong: (max: number, len: number) => `Message is too long: ${len} of at most ${max} characters.`,
  charsLeft: (n: number) => `${n} characters left`,
  messagesLabel: 'Messages',
  emptyChat: 'No messages yet. Say hello!',
  notConnected: 'Nobody is in the room to receive this yet; it was shown only to you.',
  rtt: (ms: number) => `${ms} ms`,
};

export type Strings = typeof en;

const zhCN: Strings = {
  messageLabel: '消息',
  send: '发送',
  peersHeading: '房间成员',
  you: '你',
  noPeers: '还没有其他人。',
  statusConnecting: '正在连接中继…',
  statusWaiting: '等待其他人加入…',
  statusConnected: (n: number) => `已连接 ${n} 位成员`,
  statusFailed: (why: string) => `连接失败：${why}`,
  joined: (name: string) => `${name} 加入了`,
  left: (name: string) => `${name} 离开了`,
  someone: '有人',
  tooLong: (max: number, len: number) => `消息太长：${len} 个字符，最多 ${max} 个。`,
  charsLeft: (n: number) => `还可输入 ${n} 个字符`,
  messagesLabel: '消息列表',
  emptyChat: '还没有消息，打个招呼吧！',
  notConnected: '房间里还没有其他人，这条消息只有你能看到。',
  rtt: (ms: number) => `${ms} 毫秒`,
};

const tables: Record<Lang, Strings> = { en, 'zh-CN': zhCN };

/** Picks `zh-CN` for any Chinese tag (zh, zh-CN, zh-Hans, zh-TW…), `en` otherwise. */
export function resolveLang(requested: string | null | undefined, browser: string | undefined): Lang {
  const tag = (requested || browser || 'en').toLowerCase();
  return tag === 'zh' || tag.startsWith('zh-') ? 'zh-CN' : 'en';
}

/** The string table for a language. */
export function stringsFor(lang: Lang): Strings {
  return tables[lang];
}
