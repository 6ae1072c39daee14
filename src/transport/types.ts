/**
 * One interface for every way kbootstrap reaches a host: SSH for real runs,
 * a recording transport for dry runs, a fake for tests. Steps only ever talk
 * to a Transport (through Host), so a dry run is the real code path with the
 * wire cut, not a second implementation.
 */

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Step id the command belongs to (for errors, logs and dry-run grouping). */
  step: string;
  /** true when the command changes the host; false for read-only commands. */
  mutates: boolean;
  /**
   * Data fed to the command's stdin (never placed on a command line): text, bytes, or a slice of a
   * file on this machine, read from disk as it is sent (a bundle of hundreds of MB, or its rest after a
   * cut: memory stays bounded whatever its size).
   */
  stdin?: Stdin;
  /** called as stdin goes out: bytes sent so far and the total */
  onProgress?: Progress;
  timeoutMs?: number;
  /** Literal values to hide in any output, log or error. */
  secrets?: string[];
  /** Output is secret: never shown, even in errors. */
  secretOutput?: boolean;
  /** What a dry run answers instead of running the command (placeholders only). */
  dryRunStdout?: string;
  /** One-line comment shown above the command in a dry run. */
  note?: string;
  /**
   * The caller does not read the result (it awaits only success): the command may wait and go with
   * the host's next one, in the same round trip (src/run/coalesce.ts); a failure then fails that next
   * call, named as this command's own. Only for a command the same step follows with another on the
   * same host (or with the runner's re-check), without stdin: a transport that cannot wait runs it at once.
   */
  carry?: boolean;
}

/** LENGTH bytes of FILE from byte OFFSET, read only as they are sent. */
export interface FileSlice {
  file: string;
  offset: number;
  length: number;
}

export type Stdin = string | Buffer | FileSlice;

/** Called as bytes move: done so far and the total (when known). */
export type Progress = (done: number, total?: number) => void;

export interface UploadOptions {
  step: string;
  /** called as the content goes out (a large file: a snapshot restored onto a host) */
  onProgress?: Progress;
  mode: string;
  owner?: string;
  /**
   * Values inside the content that must never be shown: the host's redactor hides them from errors, the
   * run log and every view. (A dry run never has them: it fetches no secret, its content holds placeholders.)
   */
  secrets?: string[];
  note?: string;
  /** The dry run shows this line instead of the content (a file taken from the operator's machine). */
  dryRunSummary?: string;
}

export interface DownloadOptions {
  step: string;
  /** called as the bytes come in */
  onProgress?: Progress;
  /** One-line comment shown above the read in a dry run. */
  note?: string;
  /** The file holds secrets: errors never show what came back. */
  secretOutput?: boolean;
}

/** One read-only check of a batch; its output is parsed by the step. */
export interface CheckRequest {
  step: string;
  script: string;
  /** other steps that read this same output (it runs once for all of them) */
  sharedWith?: string[];
}

export interface CheckOutput {
  step: string;
  code: number;
  stdout: string;
}

export interface Transport {
  /** Run a bash script as root (the transport adds sudo when the login user is not root). */
  exec(script: string, opts: ExecOptions): Promise<ExecResult>;
  /**
   * Replace a file atomically (temp file, mode, owner, one-time backup, rename).
   * Binary-safe: a Buffer goes out byte for byte, streamed in chunks.
   */
  upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void>;
  /** Read a file as root, byte for byte (an etcd snapshot): never decoded as text. */
  download(path: string, opts: DownloadOptions): Promise<Buffer>;
  /** Run several read-only checks in one round trip. */
  checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]>;
  /** Round trips made so far (for the JSON summary and the benchmark). */
  readonly stats: { roundTrips: number; bytesSent: number; bytesReceived: number };
  close(): Promise<void>;
}
