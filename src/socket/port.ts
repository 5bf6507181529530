import type { Vars } from '../profile/index.js';

/** What a profile command run answers (the groups of its match line and awaited URC, any binary blocks). */
export interface PortCommandResult {
  ok: boolean;
  groups: Record<string, string>;
  response?: { blocks: readonly { data: Buffer; groups: Record<string, string> }[] } | undefined;
}

/**
 * The socket layer's view of the modem below it: the few calls a backend makes. The modem
 * implements it; the socket layer never imports the modem, so the layers stack as DESIGN.md draws.
 */
export interface ModemPort {
  /** Runs a command role of the profile (socketSend, socketRead, socketClose, …). */
  runCommand(name: string, vars: Vars, data?: Buffer): Promise<PortCommandResult>;
  /** The variables every command of this session fills in ({link}, {apn}, …). */
  vars(extra?: Vars): Vars;
  /** A note for the trace. */
  note(text: string): void;
  /** The socket is closing: the modem's state machine follows. */
  socketClosing(): void;
  /** Leaves transparent mode (the profile's escape). */
  escape(): Promise<void>;
  /** Transparent mode: bytes straight onto the line. */
  writeRaw(data: Buffer): Promise<void>;
  /** The module left data mode by itself (the peer hung up): the channel frames lines again. */
  leaveDataMode(): void;
}

/** What the modem tells the backend of the open connection, whichever mode it is in. */
export interface LinkEvents {
  /** Pushed data (+IPD, +QIURC: "recv",<id>,<n>). */
  onPushed(data: Buffer): void;
  /** Data waits in the module (buffered receive). */
  onDataAvailable(len: number | undefined): void;
  /** The peer closed (CLOSED, +IPCLOSE, +QIURC: "closed"). */
  onRemoteClosed(line: string): void;
  /** Raw bytes from the line while in data mode (transparent). */
  onRawData(chunk: Buffer): void;
  /** The modem dropped the connection (reboot, link loss): no more commands for it. */
  abandon(): void;
}
