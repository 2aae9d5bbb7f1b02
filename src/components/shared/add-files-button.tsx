import { FunctionalComponent, h } from '@stencil/core';

/**
 * The header's "add" button and the hidden file input it opens (gallery pictures, music tracks):
 * `onFiles` gets the files picked (several at once), and the input is cleared so the same file can
 * be picked again. `accept` is the input's accept list (MIME types and extensions).
 */
export const AddFilesButton: FunctionalComponent<{ label: string; accept: string; disabled: boolean; onFiles: (files: File[]) => void }> = ({ label, accept, disabled, onFiles }) => {
  let input: HTMLInputElement | undefined;
  return [
    <button type="button" class="add" disabled={disabled} onClick={() => input?.click()}>
      {label}
    </button>,
    <input
      type="file"
      accept={accept}
      multiple
      hidden
      ref={el => (input = el)}
      onChange={e => {
        const picked = e.target as HTMLInputElement;
        onFiles([...(picked.files ?? [])]);
        picked.value = '';
      }}
    />,
  ];
};
