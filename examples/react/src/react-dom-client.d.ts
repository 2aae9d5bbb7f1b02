// This repository has no @types/react-dom (a real app installs it: npm i -D @types/react-dom).
// The one function the example uses, as @types/react-dom declares it.
declare module 'react-dom/client' {
  import type { ReactNode } from 'react';
  export interface Root {
    render(children: ReactNode): void;
    unmount(): void;
  }
  export function createRoot(container: Element | DocumentFragment): Root;
}
