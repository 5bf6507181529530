import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PROFILE_DIR } from '../../profile/index.js';
import type { ClassifiedEvent } from '../classify-events.js';
import type { Rule } from '../engine.js';
import type { FindingId } from '../findings.js';
import { finalOutcome, trimmed } from './text.js';

const Service = z.enum(['mqtt', 'http']);
const Kind = z.enum(['refused', 'network', 'tls', 'service', 'rejected']);
const ServicesSchema = z.object({
  results: z.array(z.object({
    service: Service, urc: z.string(), ok: z.array(z.string()).optional(), okBelow: z.number().optional(),
    table: z.string(), what: z.string(), onlyAfter: z.string().optional(),
    /** A fix for one code, instead of the finding's usual one. */
    fixes: z.record(z.string(), z.string()).optional(),
    /** Codes another rule reports under its own id (Quectel's +QMTSTAT: 0,1 is the broker hanging up: peer-closed). */
    reportedBy: z.record(z.string(), z.string()).optional(),
    about: z.string().optional(),
  })),
  failsWithError: z.array(z.object({ service: Service, command: z.string(), what: z.string() })),
  tables: z.record(z.string(), z.record(z.string(), z.tuple([Kind, z.string()]))),
  dataContext: z.object({ activate: z.array(z.string()), active: z.array(z.string()) }),
  sockets: z.object({ openResultTables: z.record(z.string(), z.string()).optional() }).passthrough(),
});

/** The modules' own MQTT and HTTP clients: data in firmware-profiles/services/native-services.json. */
const DATA = ServicesSchema.parse(JSON.parse(readFileSync(join(PROFILE_DIR, 'services', 'native-services.json'), 'utf8')));
const RESULTS = DATA.results.map((r) => ({ ...r, re: new RegExp(r.urc), after: r.onlyAfter ? new RegExp(r.onlyAfter, 'i') : undefined }));
const ERROR_ONLY = DATA.failsWithError.map((f) => ({ ...f, re: new RegExp(f.command, 'i') }));

const SOCKET_TABLES = DATA.sockets.openResultTables ?? {};
const ACTIVATE = DATA.dataContext.activate.map((p) => new RegExp(p, 'i'));
const ACTIVE = DATA.dataContext.active.map((p) => new RegExp(p));

/**
 * The data context (PDP context or bearer) that would not come up: ERROR to the family's
 * activation command (AT+CGACT=1,1, AT+SAPBR=1,1, AT+QIACT=1, AT+CIICR, AT+CNACT…) is
 * `netopen-failed`, unless the module shows the context active anyway (already open).
 */
export function dataContextRule(): Rule {
  const failed: ClassifiedEvent[] = [];
  let active = false;
  return {
    name: 'data-context',
    onEvent(e) {
      if (e.dir === 'rx' && ACTIVE.some((re) => re.test(trimmed(e)))) active = true;
    },
    onExchange(ex) {
      if (!ACTIVATE.some((re) => re.test(ex.command)) || finalOutcome(ex.final) !== 'error') return;
      ex.explained = true;
      failed.push(ex.final!);
    },
    finish(c) {
      if (failed.length === 0 || active) return;
      const first = failed[0]!;
      c.add('netopen-failed', `the data context did not come up: ${first.command ?? 'the activation'} → ${trimmed(first)}${failed.length > 1 ? ` (${failed.length} times)` : ''}`, failed.slice(0, 4), {
        fix: 'check the APN (and its user/password), that the SIM has a data plan and is registered (CGATT 1), and the module\'s supply: activation draws a current peak',
      });
    },
  };
}

const KIND_WORDS = { refused: 'the broker refused the login', network: 'a network fault', tls: 'a TLS fault', service: 'the module\'s client', rejected: 'the command was wrong' } as const;

interface Failure {
  id: FindingId;
  event: ClassifiedEvent;
  text: string;
  fix?: string | undefined;
}

/**
 * The module's own MQTT client (SIMCom AT+CMQTT*, Quectel AT+QMT*, SIM7080 AT+SM*, u-blox
 * AT+UMQTT*) and HTTP client (AT+HTTPACTION, AT+SH*, AT+QHTTP*, AT+UHTTP*): a result code that is
 * not success is `mqtt-service-failed` / `http-service-failed` with the code's meaning and whether
 * it was the network, TLS or the module's client; a broker's refusal is `mqtt-connect-refused`.
 */
/** Explains a socket open result code from the family's table (undefined when the file has none for it). */
export function socketResultMeaning(line: string): { kind: z.infer<typeof Kind>; meaning: string } | undefined {
  for (const [pattern, table] of Object.entries(SOCKET_TABLES)) {
    const m = new RegExp(pattern).exec(line);
    const entry = m ? DATA.tables[table]?.[m[1]!] : undefined;
    if (entry) return { kind: entry[0], meaning: entry[1] };
  }
  return undefined;
}

export function servicesRule(): Rule {
  const failures: Failure[] = [];
  const commandsSeen: string[] = [];
  return {
    name: 'native-services',
    onEvent(e) {
      if (e.kind === 'command' || (e.kind === 'echo' && e.command === e.text.trim())) {
        commandsSeen.push(e.text.trim());
        if (commandsSeen.length > 50) commandsSeen.shift();
      }
      if (e.dir !== 'rx') return;
      const text = trimmed(e);
      for (const r of RESULTS) {
        const m = r.re.exec(text);
        if (!m) continue;
        if (r.after && !commandsSeen.some((c) => r.after!.test(c))) continue;
        const code = m[1]!;
        if (r.ok?.includes(code) || (r.okBelow !== undefined && Number(code) < r.okBelow) || r.reportedBy?.[code] !== undefined) return;
        const [kind, meaning] = DATA.tables[r.table]?.[code] ?? (['service', `code ${code}`] as const);
        const id: FindingId = r.service === 'http' ? 'http-service-failed' : kind === 'refused' ? 'mqtt-connect-refused' : 'mqtt-service-failed';
        failures.push({ id, event: e, text: `${r.what} failed (${text}: ${meaning}; ${KIND_WORDS[kind]})`, fix: r.fixes?.[code] });
        return;
      }
    },
    onExchange(ex) {
      if (ex.replies.some((r) => failures.some((f) => f.event === r))) {
        ex.explained = true;
        return;
      }
      if (finalOutcome(ex.final) !== 'error') return;
      const spec = ERROR_ONLY.find((f) => f.re.test(ex.command));
      if (!spec) return;
      ex.explained = true;
      failures.push({ id: spec.service === 'http' ? 'http-service-failed' : 'mqtt-service-failed', event: ex.final!, text: `${spec.what} failed (${trimmed(ex.final!)})` });
    },
    finish(c) {
      for (const id of ['mqtt-connect-refused', 'mqtt-service-failed', 'http-service-failed'] as const) {
        const mine = failures.filter((f) => f.id === id);
        if (mine.length === 0) continue;
        const first = mine[0]!;
        const more = mine.length > 1 ? ` (${mine.length} times)` : '';
        c.add(id, `the module's own ${id === 'http-service-failed' ? 'HTTP' : 'MQTT'} client: ${first.text}${more}`, mine.slice(0, 4).map((f) => f.event), first.fix ? { fix: first.fix } : {});
      }
    },
  };
}
