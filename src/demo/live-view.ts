import pc from 'picocolors';
import type { Packet } from 'mqtt-packet';
import { classifyLine, looksLikeCommand, responsePrefixFor, type CommandContext } from '../at/classify.js';
import { AtFramer, type Frame } from '../at/framer.js';
import { describePacket } from '../mqtt/describe.js';
import type { ModuleProfile } from '../profile/index.js';
import { redactCommandLine } from '../trace/redact.js';
import type { Tap } from '../transport/tap.js';

/**
 * Prints the serial conversation as it happens, decoded: host commands, the module's answers
 * (with code meanings from the profile), URCs, prompts, data blocks, and the MQTT packets the
 * data carries. A Tap, so it sees exactly the bytes on the line.
 */
export class LiveView implements Tap {
  commands = 0;
  urcs = 0;
  private readonly framer: AtFramer;
  private context: CommandContext | undefined;
  private readonly start = performance.now();
  private dataMode = false;

  constructor(
    private readonly profile: ModuleProfile,
    private readonly out: (line: string) => void,
  ) {
    this.framer = new AtFramer(profile, (frame) => this.onFrame(frame));
  }

  tx(data: Buffer): void {
    const text = data.toString('latin1');
    const lines = text.split(/\r\n|\r/).filter((l) => l.length > 0);
    if (!this.dataMode && lines.length > 0 && lines.every((l) => looksLikeCommand(l))) {
      for (const line of lines) {
        this.commands++;
        this.context = { text: line, responsePrefix: responsePrefixFor(line), finals: [], echoPending: true };
        this.print(pc.cyan('→'), pc.bold(redactCommandLine(line)));
      }
      return;
    }
    if (text === this.profile.data.escape.sequence) {
      this.print(pc.cyan('→'), pc.yellow(`${text}  (escape from transparent mode)`));
      return;
    }
    this.print(pc.cyan('→'), pc.dim(`[${data.length} bytes of socket data]`));
  }

  rx(data: Buffer): void {
    if (this.dataMode) {
      this.print(pc.green('←'), pc.dim(`[${data.length} bytes of socket data]`));
      return;
    }
    this.framer.push(data);
  }

  note(text: string): void {
    if (text.startsWith('state ')) {
      const to = /→ (\S+):/.exec(text)?.[1];
      this.dataMode = to === 'socket-transparent';
      this.framer.setDataMode(this.dataMode);
      this.print(pc.magenta('●'), pc.magenta(text.slice(6)));
    }
  }

  mqtt(direction: 'send' | 'receive', packet: Packet): void {
    this.print(direction === 'send' ? pc.blue('⇢') : pc.blue('⇠'), pc.blue(`MQTT ${describePacket(packet)}`));
  }

  private onFrame(frame: Frame): void {
    switch (frame.kind) {
      case 'prompt':
        this.print(pc.green('←'), pc.yellow('>'), pc.dim('prompt: send the data'));
        return;
      case 'block':
        this.print(pc.green('←'), pc.yellow(frame.header.trim()), pc.dim(`${frame.data.length} bytes of socket data`));
        return;
      case 'data':
        this.print(pc.green('←'), pc.dim(`[${frame.data.length} bytes of socket data]`));
        return;
      case 'line': {
        // A `+IPD<len>` header line is shown with its data block.
        if (this.profile.matchLineBlock(frame.text.trim())) return;
        const line = classifyLine(frame.text, this.profile, this.context);
        if (line.kind === 'echo') {
          if (this.context) this.context.echoPending = false;
          return;
        }
        const meaning = line.final?.meaning ?? line.urc?.meaning;
        const kind = line.kind === 'urc' ? 'URC' : line.kind;
        if (line.kind === 'urc') this.urcs++;
        const colour = line.kind === 'final' ? (line.final?.outcome === 'error' ? pc.red : pc.green) : line.kind === 'urc' ? pc.yellow : (s: string) => s;
        this.print(pc.green('←'), colour(line.text.trim()), pc.dim(`${kind}${meaning ? `: ${meaning}` : ''}`));
        if (line.kind === 'final') this.context = undefined;
      }
    }
  }

  private print(...parts: string[]): void {
    const t = ((performance.now() - this.start) / 1000).toFixed(3).padStart(7);
    this.out(`${pc.dim(t)} ${parts.join(' ')}`);
  }
}
