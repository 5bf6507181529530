// Scanned by no-family-words.test.ts: only code counts, comments do not (AT+CIPOPEN here is fine).
/* A block comment citing AT+QISEND=0,5 is fine too. */
/** So is a doc comment: `+QISEND: 0,5,0`. */
export const sample = {
  // line 6: a string literal names a family command
  open: 'AT+CIPOPEN=0',
  // line 8: a regex literal does
  send: /^AT\+QISEND=/,
  // line 10: a template literal does
  note: `sent ${1} bytes with QISEND`,
};
