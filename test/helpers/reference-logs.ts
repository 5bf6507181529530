import { readdirSync } from 'node:fs';

/** fixtures/logs, where the captured logs live. */
export const LOGS_DIR = new URL('../../fixtures/logs/', import.meta.url).pathname;

/**
 * The 44 logs copied from ../shared/reference/logs (two-digit numbers: `sim7600_NN_…`, `espat_NN_…`).
 * The larger corpus beside them (numbers from 100) is scored by its labels, not by these tests.
 */
export const REFERENCE_LOGS: readonly string[] = readdirSync(LOGS_DIR).filter((f) => /^(?:sim7600|espat)_\d{2}_.*\.txt$/.test(f));
