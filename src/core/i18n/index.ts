/** i18n: every user-visible string, in `en` and `zh-CN`, and `Intl` formatting of sizes, times and dates. */
export { resolveLang, stringsFor } from './strings';
export type { Lang, Strings } from './strings';
export { formatBytes, formatClock, formatDateTime, formatDay, formatDuration, formatRelativeTime, formatTime } from './format';
