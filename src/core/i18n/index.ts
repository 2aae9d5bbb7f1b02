/** i18n: every user-visible string, in `en` and `zh-CN`. */
export { resolveLang, stringsFor } from './strings';
export type { Lang, Strings } from './strings';
