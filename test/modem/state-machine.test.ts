import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/modem/backoff.js';
import { allStates, StateMachine, type Transition } from '../../src/modem/states.js';

describe('modem state machine', () => {
  it('walks the bring-up path and reports every transition', () => {
    const machine = new StateMachine();
    const seen: Transition[] = [];
    machine.on('transition', (t: Transition) => seen.push(t));
    for (const state of ['detect-baud', 'sync', 'identify', 'init', 'attach', 'ready', 'socket-opening', 'socket-command', 'socket-closing', 'ready', 'closed'] as const) {
      machine.go(state, `to ${state}`);
    }
    expect(seen.map((t) => t.to)).toEqual(['detect-baud', 'sync', 'identify', 'init', 'attach', 'ready', 'socket-opening', 'socket-command', 'socket-closing', 'ready', 'closed']);
    expect(seen[0]).toEqual({ from: 'closed', to: 'detect-baud', reason: 'to detect-baud' });
  });

  it('refuses a transition that skips bring-up', () => {
    const machine = new StateMachine();
    expect(() => machine.go('socket-command', 'too early')).toThrow(/closed → socket-command/);
    expect(machine.state).toBe('closed');
  });

  it('every state can be left for closed', () => {
    for (const state of allStates()) {
      if (state === 'closed') continue;
      const machine = new StateMachine();
      // Reach the state along any legal path, then close.
      const path: Record<string, string[]> = {
        'detect-baud': ['detect-baud'], sync: ['sync'], identify: ['sync', 'identify'], init: ['sync', 'identify', 'init'],
        attach: ['sync', 'identify', 'init', 'attach'], join: ['sync', 'identify', 'init', 'join'],
        ready: ['sync', 'identify', 'init', 'join', 'ready'], 'socket-opening': ['sync', 'identify', 'init', 'join', 'ready', 'socket-opening'],
        'socket-command': ['sync', 'identify', 'init', 'join', 'ready', 'socket-opening', 'socket-command'],
        'socket-transparent': ['sync', 'identify', 'init', 'join', 'ready', 'socket-opening', 'socket-transparent'],
        'socket-closing': ['sync', 'identify', 'init', 'join', 'ready', 'socket-opening', 'socket-command', 'socket-closing'],
        recovering: ['sync', 'recovering'], dead: ['sync', 'dead'],
      };
      for (const step of path[state]!) machine.go(step as never, 'path');
      expect(machine.state).toBe(state);
      machine.go('closed', 'shutdown');
      expect(machine.state).toBe('closed');
    }
  });
});

describe('backoff', () => {
  it('grows exponentially up to the cap, with jitter inside the ceiling', () => {
    const top = new Backoff({ baseMs: 100, capMs: 1000 }, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    const bottom = new Backoff({ baseMs: 100, capMs: 1000 }, () => 0);
    expect(bottom.next()).toBe(25);
    top.reset();
    expect(top.next()).toBe(100);
  });
});
