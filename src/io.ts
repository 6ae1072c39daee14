/** Where a command writes: the CLI passes the process's streams, tests pass buffers. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}
