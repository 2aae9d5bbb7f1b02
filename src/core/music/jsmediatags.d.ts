/** Types for the parts of jsmediatags (https://github.com/aadsm/jsmediatags) the music room uses; its browser build is imported (the package's main entry pulls in React Native and Node readers). */
declare module 'jsmediatags/dist/jsmediatags.min.js' {
  interface Picture {
    format: string;
    data: number[];
  }
  interface Tags {
    title?: string;
    artist?: string;
    album?: string;
    picture?: Picture;
  }
  const jsmediatags: {
    read(file: Blob, callbacks: { onSuccess: (result: { tags: Tags }) => void; onError: (error: { type: string; info: string }) => void }): void;
  };
  export default jsmediatags;
}
