/** live: the rules of a live broadcast (`<p2p-live>`, issue 14): for now the relay tree's shape. */
export { RelayTree, UPLOAD_HEADROOM } from './relay-tree';
export type { Placement, RelayTreeOptions } from './relay-tree';
