import type { Duplex } from 'node:stream';

/** How to reach and bring up a module; shared by every command that talks through one. */
export interface ModemSessionOptions {
  /** A serial path, `tcp://host:port`, `emu:sim7600` or `emu:esp-at` (emulator options after `?`). */
  device: string;
  /** Profile id, a path to a profile JSON, or `auto` (identify the module). */
  profile?: string;
  /** Serial rate, or `auto` to probe the common rates. */
  baud?: number | 'auto';
  /** Switch module and port to this rate after sync (AT+IPR / AT+UART_CUR). */
  setBaud?: number;
  /** On sustained line corruption, step module and port down to the next lower rate the profile lists. */
  baudFallback?: boolean;
  /** Carry the socket in transparent (data) mode instead of command mode. */
  transparent?: boolean;
  /** Receive in push mode (URCs carry the data) or buffered mode (read on notice). */
  recvMode?: 'push' | 'buffered';
  apn?: string;
  pin?: string;
  wifiSsid?: string;
  wifiPassword?: string;
  /** Write a JSONL trace of every byte and state change here. */
  trace?: string;
  /** Keep a rolling compressed trace (flight recorder) in this directory. */
  traceDir?: string;
  /** Further secrets to mask in the trace (the MQTT password, say). */
  secrets?: string[];
  /** Human progress lines (registration can take a minute). */
  onProgress?: (message: string) => void;
  /**
   * The few progress lines a person needs even when not asking for progress: each rate of a baud
   * search and each retry of a silent module, so a silent module does not look like a hang. They
   * also go to `onProgress`.
   */
  onWait?: (message: string) => void;
  signal?: AbortSignal;
}

/** A module brought up and ready to open TCP connections through its own stack. */
export interface ModemSession {
  /** Profile id actually in use (after auto-detection). */
  readonly profileId: string;
  /** Opens a TCP connection through the module; a net.Socket-like Duplex. */
  connect(host: string, port: number): Promise<Duplex>;
  /** Facts for status reports: identity, signal, registration or AP, counters. */
  status(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}
