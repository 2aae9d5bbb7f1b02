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
  settings: 'Settings',
  closeSettings: 'Back to chat',
  markedView: 'Marked',
  noMarked: 'No marked messages. Mark a message to keep it beyond the retention window.',
  retentionLabel: 'Keep messages on this device for',
  retentionForever: 'Forever',
  retentionHours: (n: number) => (n === 1 ? '1 hour' : `${n} hours`),
  retentionDays: (n: number) => (n === 1 ? '1 day' : `${n} days`),
  retentionHelp: 'Older messages are deleted from this device automatically, except marked ones. Others keep their own.',
  burnLabel: 'Burn after reading (for everyone in the room)',
  burnBanner: (seconds: number) => `Burn after reading is on: new messages are not saved anywhere and disappear ${seconds} s after they are read.`,
  burnOn: (own: boolean): string => (own ? 'You turned burn after reading on' : 'Burn after reading was turned on'),
  burnOff: (own: boolean): string => (own ? 'You turned burn after reading off' : 'Burn after reading was turned off'),
  mark: 'Mark',
  unmark: 'Unmark',
  retract: 'Retract',
  retracted: 'Message retracted by its author',
  showRetracted: 'Show',
  hideRetracted: 'Hide',
  tombstone: 'A message was retracted by its author',
  newMessages: (n: number) => (n === 1 ? '1 new message' : `${n} new messages`),
  loadingOlder: 'Loading older messages…',
  messageActions: 'Message actions',
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
  settings: '设置',
  closeSettings: '返回聊天',
  markedView: '已标记',
  noMarked: '没有标记的消息。标记的消息会在保留期之后继续保存。',
  retentionLabel: '在本设备上保存消息',
  retentionForever: '永久',
  retentionHours: (n: number) => `${n} 小时`,
  retentionDays: (n: number) => `${n} 天`,
  retentionHelp: '更早的消息会自动从本设备删除（已标记的除外）。其他人各自保存自己的。',
  burnLabel: '阅后即焚（对房间里所有人）',
  burnBanner: (seconds: number) => `阅后即焚已开启：新消息不会保存在任何地方，阅读 ${seconds} 秒后消失。`,
  burnOn: (own: boolean) => (own ? '你开启了阅后即焚' : '阅后即焚已开启'),
  burnOff: (own: boolean) => (own ? '你关闭了阅后即焚' : '阅后即焚已关闭'),
  mark: '标记',
  unmark: '取消标记',
  retract: '撤回',
  retracted: '作者已撤回此消息',
  showRetracted: '显示',
  hideRetracted: '隐藏',
  tombstone: '有一条消息被作者撤回',
  newMessages: (n: number) => `${n} 条新消息`,
  loadingOlder: '正在加载更早的消息…',
  messageActions: '消息操作',
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
