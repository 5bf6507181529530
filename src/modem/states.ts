import { EventEmitter } from 'node:events';

/** The driver's states, named as a person would say them. */
export type ModemState =
  | 'closed'
  | 'detect-baud'
  | 'sync'
  | 'identify'
  | 'init'
  | 'attach'
  | 'join'
  | 'ready'
  | 'socket-opening'
  | 'socket-command'
  | 'socket-transparent'
  | 'socket-closing'
  | 'recovering'
  | 'dead';

/** Which states may follow which; anything else is a bug in the driver, caught at once. */
const NEXT: Record<ModemState, readonly ModemState[]> = {
  closed: ['detect-baud', 'sync'],
  'detect-baud': ['sync', 'identify', 'recovering', 'dead', 'closed'],
  sync: ['detect-baud', 'identify', 'recovering', 'dead', 'closed'],
  identify: ['init', 'recovering', 'dead', 'closed'],
  init: ['attach', 'join', 'recovering', 'dead', 'closed'],
  attach: ['ready', 'recovering', 'dead', 'closed'],
  join: ['ready', 'recovering', 'dead', 'closed'],
  ready: ['socket-opening', 'recovering', 'dead', 'closed'],
  'socket-opening': ['socket-command', 'socket-transparent', 'ready', 'recovering', 'dead', 'closed'],
  'socket-command': ['socket-closing', 'ready', 'recovering', 'dead', 'closed'],
  'socket-transparent': ['socket-closing', 'ready', 'recovering', 'dead', 'closed'],
  'socket-closing': ['ready', 'recovering', 'dead', 'closed'],
  recovering: ['detect-baud', 'sync', 'dead', 'closed'],
  dead: ['detect-baud', 'sync', 'recovering', 'closed'],
};

/** One state change of the modem driver, with its cause. */
export interface Transition {
  from: ModemState;
  to: ModemState;
  /** The event that caused it: "OK to AT at 115200", "RDY mid-session", … */
  reason: string;
}

/** Holds the current state, refuses impossible transitions, and reports each one. */
export class StateMachine extends EventEmitter {
  private current: ModemState = 'closed';

  get state(): ModemState {
    return this.current;
  }

  go(to: ModemState, reason: string): void {
    const from = this.current;
    if (from === to) return;
    if (!NEXT[from].includes(to)) throw new Error(`modem state machine: ${from} → ${to} is not a transition (${reason})`);
    this.current = to;
    this.emit('transition', { from, to, reason } satisfies Transition);
  }

  is(...states: ModemState[]): boolean {
    return states.includes(this.current);
  }
}

export function allStates(): ModemState[] {
  return Object.keys(NEXT) as ModemState[];
}
