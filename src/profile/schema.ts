import { z } from 'zod';

/** A regular expression source; checked at load so a typo is reported with its field. */
const Regex = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
  }
});

const Template = z.string().min(1);

const ResultCode = z
  .object({
    pattern: Regex,
    outcome: z.enum(['ok', 'error', 'connect', 'no-carrier']),
    /** Error table that explains the captured `code` group. */
    table: z.string().optional(),
    meaning: z.string().optional(),
  })
  .strict();

const UrcEvent = z.enum([
  'boot',
  'ready',
  'init-done',
  'sim',
  'registration',
  'network-opened',
  'network-closed',
  'network-lost',
  'pdp',
  'socket-opened',
  'socket-closed',
  'socket-close-done',
  'send-confirm',
  'send-progress',
  'send-ok',
  'send-fail',
  'data-available',
  'data-source',
  'wifi-connected',
  'wifi-got-ip',
  'wifi-disconnected',
  'wifi-join-error',
  'transparent-quit',
  'mqtt',
  'sms',
  'other',
]);

const Urc = z
  .object({
    name: z.string(),
    pattern: Regex,
    event: UrcEvent,
    table: z.string().optional(),
    /** Which named group the table explains (default `code`). */
    tableGroup: z.string().optional(),
    meaning: z.string().optional(),
  })
  .strict();

const BinaryBlock = z
  .object({
    name: z.string(),
    /** Literal start of the header, for a cheap check before the pattern runs. */
    prefix: z.string().min(1),
    /** Header pattern with a `len` group (and `id` where the module says which link). */
    pattern: Regex,
    /** `inline`: data follows the header's last character; `nextLine`: data follows the header's line end. */
    dataStarts: z.enum(['inline', 'nextLine']),
    purpose: z.enum(['push', 'read']),
  })
  .strict();

const Busy = z.object({ pattern: Regex, kind: z.enum(['processing', 'sending']) }).strict();

const AwaitUrc = z
  .object({
    /** Pattern (a template: `{link}` is filled in) of the URC that completes the command. */
    pattern: Template,
    timeoutMs: z.number().int().positive(),
    /** Named group holding the result code, and the values meaning success. */
    group: z.string().default('err'),
    success: z.array(z.string()).default(['0']),
    table: z.string().optional(),
    /**
     * The module sends this URC only after the command's final result (SIMCom's `+CIPSEND:
     * link,req,cnf` after the data's OK). A serial line keeps the order, so this URC seen while the
     * final is still awaited means the final was lost on the way: the URC is the answer, and no
     * late final can follow to be taken for the next command's.
     */
    followsFinal: z.boolean().optional(),
  })
  .strict();

const CommandSpec = z
  .object({
    /** Command text, a template: `{name}` is replaced by a variable (strings quoted by the template). */
    send: Template,
    timeoutMs: z.number().int().positive().optional(),
    /** Information line to capture; named groups become variables. */
    match: Regex.optional(),
    /** The table that explains the `match` answer's code (a query's answer: `+CWMODE:1`, `STATUS:5`). */
    table: z.string().optional(),
    /** Which named group of `match` that table explains (default `code`). */
    tableGroup: z.string().optional(),
    /** Extra final result codes for this command only (CONNECT for a transparent open, SEND OK...). */
    finals: z.array(ResultCode).optional(),
    /** The module answers with the '>' prompt, then takes data. */
    prompt: z.boolean().optional(),
    /** After the data: finals that end the data phase (ESP: SEND OK / SEND FAIL). */
    dataFinals: z.array(ResultCode).optional(),
    /** After the prompt (no data given) or a CONNECT final, the line carries raw data (transparent mode). */
    dataMode: z.boolean().optional(),
    /** A URC that completes the command after its final result. */
    awaitUrc: AwaitUrc.optional(),
    /** Pause after the final before the next command; default serial.settleMs. 0 where the answer's own URC was awaited. */
    settleMs: z.number().int().min(0).optional(),
    /** Error answers that mean the job is already done (e.g. network already opened). */
    alreadyDone: z.array(Regex).optional(),
    /** Refused: run these commands, then this one once more (SIMCom: CIPMODE only while the network is closed → netClose). */
    recoverWith: z.array(z.string()).optional(),
    /** Only run when this variable is set. */
    when: z.string().optional(),
    optional: z.boolean().optional(),
    retries: z.number().int().min(0).optional(),
    retryDelayMs: z.number().int().min(0).optional(),
    note: z.string().optional(),
  })
  .strict();

const Quirk = z
  .object({
    name: z.string(),
    when: z
      .object({
        firmwareMatches: Regex.optional(),
        firmwareAtLeast: z.string().optional(),
        firmwareBelow: z.string().optional(),
      })
      .strict(),
    /** Fields this firmware's commands have instead; `null` takes a field away (SIM7000's CIICR awaits no URC). */
    commands: z.record(z.string(), CommandSpec.partial().extend({ awaitUrc: AwaitUrc.nullable().optional(), recoverWith: z.array(z.string()).nullable().optional() })).optional(),
    /** Chat scripts this firmware runs instead (SIM7000's CSTT/CIICR/CIFSR bring-up on a SIM7080 profile). */
    scripts: z.record(z.string(), z.array(z.string())).optional(),
    /**
     * What this firmware's sockets lack or limit: a smaller send, fewer receive modes (ESP8266
     * NonOS AT before 1.7 has no passive receive), fewer socket modes.
     */
    socket: z
      .object({
        maxSend: z.number().int().positive().optional(),
        recvModes: z.array(z.enum(['push', 'buffered'])).min(1).optional(),
        modes: z.array(z.enum(['command', 'transparent'])).min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ProfileSchema = z
  .object({
    $schema: z.string().optional(),
    /** Id of the base profile this one was merged over (`3gpp`); see src/profile/compose.ts for the rules. */
    extends: z.string().optional(),
    /** A base that names no module: listed for `extends` only, never picked or loaded alone. */
    abstract: z.boolean().optional(),
    id: z.string().regex(/^[a-z0-9-]+$/),
    name: z.string(),
    family: z.enum(['cellular', 'wifi']),
    sources: z.array(z.string()).min(1),
    serial: z
      .object({
        defaultBaud: z.number().int().positive(),
        /** What ends a command line the host sends. */
        lineEnding: z.enum(['\r', '\r\n']),
        echoDefault: z.boolean(),
        maxCommandLength: z.number().int().positive(),
        /** Pause after each final result before the next command, so late URCs arrive first. */
        settleMs: z.number().int().min(0),
        /** How quotes and commas inside string arguments are escaped. */
        stringEscape: z.enum(['none', 'backslash']),
        /** Rates worth probing, most likely first (after the configured one). */
        probeRates: z.array(z.number().int().positive()).min(1),
      })
      .strict(),
    banner: z
      .object({
        /** What the module prints after power-on, in order. */
        lines: z.array(z.string()).min(1),
        /** The line after which commands are accepted. */
        readyPattern: Regex,
        /** Lines that mean the module (re)started: seen mid-session, it rebooted. */
        rebootPatterns: z.array(Regex).min(1),
      })
      .strict(),
    results: z.array(ResultCode).min(2),
    prompt: z.object({ text: z.string().min(1), trailingSpace: z.boolean() }).strict(),
    busy: z.array(Busy),
    urcs: z.array(Urc),
    binaryBlocks: z.array(BinaryBlock),
    /** Lines that are never module answers: boot logs, debug output, garbage the firmware prints. */
    noise: z.array(Regex),
    timeouts: z
      .object({
        defaultMs: z.number().int().positive(),
        /** Keyed by command name up to its first '=', '?' or end: "AT+NETOPEN". */
        byCommand: z.record(z.string(), z.number().int().positive()),
      })
      .strict(),
    escape: z
      .object({
        sequence: z.string().min(1),
        guardBeforeMs: z.number().min(0),
        guardAfterMs: z.number().min(0),
        /** Longest gap allowed between the escape characters. */
        maxGapMs: z.number().positive(),
        /** What the module prints once out of data mode (null: nothing). */
        reply: z.string().nullable(),
        /** Wait after the escape before the next command. */
        settleAfterMs: z.number().min(0),
      })
      .strict(),
    baudChange: z
      .object({
        command: Template,
        query: z.string(),
        persist: Template.optional(),
        rates: z.array(z.number().int().positive()).min(1),
        /** The module answers OK at the old rate, then switches. */
        replyAtOldRate: z.boolean(),
      })
      .strict(),
    identify: z
      .object({
        commands: z.array(z.string()).min(1),
        /**
         * Answer lines that say this profile fits, each worth a score (default 1): identification
         * scores every profile and takes the best, so a line only this family prints (its model
         * name) is worth more than one its whole vendor prints. A score of 10 or more is decisive.
         */
        detect: z.array(z.union([Regex, z.object({ pattern: Regex, score: z.number().positive() }).strict()])).min(1),
        model: z.array(Regex),
        firmware: z.array(Regex),
      })
      .strict(),
    quirks: z.array(Quirk),
    tables: z.record(z.string(), z.record(z.string(), z.string())),
    /**
     * What each reason code of a Wi-Fi join's failure (the `wifi-join-error` URC's code, `*` for
     * any other) is for a person: its kind (which finding and exit code) and what to do about it.
     */
    joinFailures: z.record(z.string(), z.object({ kind: z.enum(['timeout', 'wrong-password', 'ap-not-found', 'failed']), fix: z.string().min(1) }).strict()).optional(),
    commands: z.record(z.string(), CommandSpec),
    /** Chat scripts: named phases, each a list of command names run in order. */
    scripts: z.record(z.string(), z.array(z.string())),
    socket: z
      .object({
        link: z.number().int().min(0),
        maxSend: z.number().int().positive(),
        /** Receive modes this family offers; the first is the default. */
        recvModes: z.array(z.enum(['push', 'buffered'])).min(1),
        /** Socket modes this family offers (default both): "transparent" needs a transparent open. */
        modes: z.array(z.enum(['command', 'transparent'])).min(1).optional(),
        /** Largest read in buffered mode. */
        maxRead: z.number().int().positive(),
        transparent: z
          .object({
            /** Lines that end data mode from the module's side (peer closed). */
            closedLines: z.array(z.string()),
          })
          .strict(),
      })
      .strict(),
    emulator: z
      .object({
        /** Answers to identification commands, line by line. */
        identity: z.record(z.string(), z.array(z.string())),
        /** Boot text printed before the banner (ROM log) — part of the real power-on. */
        bootLog: z.array(z.string()),
        bootMs: z.number().int().min(0),
      })
      .strict(),
  })
  .strict();

/** A firmware profile as stored in firmware-profiles/*.json (validated with the schema on load). */
export type Profile = z.infer<typeof ProfileSchema>;
export type CommandSpecT = z.infer<typeof CommandSpec>;
export type ResultCodeT = z.infer<typeof ResultCode>;
export type UrcT = z.infer<typeof Urc>;
export type UrcEventT = z.infer<typeof UrcEvent>;
export type BinaryBlockT = z.infer<typeof BinaryBlock>;
export type QuirkT = z.infer<typeof Quirk>;
export type DetectT = Profile['identify']['detect'][number];
export type JoinFailureT = NonNullable<Profile['joinFailures']>[string];
