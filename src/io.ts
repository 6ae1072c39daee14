/** Where a command writes: the CLI passes the process's streams, tests pass buffers. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  /** the terminal's width, when stdout / stderr is one: text is laid out for it (src/wrap.ts) */
  columns?: number;
  errColumns?: number;
}
