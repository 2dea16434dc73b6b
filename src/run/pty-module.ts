/** The part of node-pty that `authy run` uses, as types only (pty.ts loads the module itself). */

/** node-pty's IPty, as far as we use it (data arrives as Buffers with `encoding: null`). */
export interface PtyProcess {
  readonly pid: number;
  onData(listener: (data: Buffer | string) => void): unknown;
  onExit(listener: (event: { exitCode: number; signal?: number }) => void): unknown;
  write(data: string | Buffer): void;
  resize(columns: number, rows: number): void;
  pause(): void;
  resume(): void;
}

export interface PtySpawnOptions {
  name: string;
  cols: number;
  rows: number;
  cwd: string;
  env: Record<string, string>;
  encoding: null;
}

export interface PtyModule {
  spawn(file: string, args: string[], options: PtySpawnOptions): PtyProcess;
}

/** Returns node-pty, or throws an Error saying why it could not be loaded. */
export type PtyLoader = () => PtyModule | Promise<PtyModule>;
