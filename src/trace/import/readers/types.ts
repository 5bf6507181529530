/** What a library's debug line holds, once its reader took it apart. */
export type ReaderOut =
  /** One line of traffic, without its line end. */
  | { dir: 'tx' | 'rx'; text: string }
  /** The library talking about itself; `noAnswer` when it says the module stayed silent. */
  | {
      dir: 'note';
      text: string;
      noAnswer?: boolean;
      /** It says the command just sent got nothing back (that command, not the module in general). */
      silent?: boolean;
    };

/**
 * A named, auto-detected reader of one debug format. `read` gets a line (its timestamp already
 * taken off when the transcript knows the stamp) and returns what it holds, or undefined when the
 * line is not in this format. Readers keep state per file (a hex dump's direction, a partial line).
 */
export interface DebugReader {
  readonly name: string;
  read(line: string): ReaderOut[] | undefined;
  /** End of the file, or another reader took over: lines still held. */
  flush(): ReaderOut[];
}
