/** Where the examples connect: the built-in emulator and a local broker unless told otherwise. */
export const DEVICE = process.env.ATBRIDGE_DEVICE ?? 'emu:sim7600';
export const APN = process.env.ATBRIDGE_APN ?? 'internet';
export const MQTT_HOST = process.env.MQTT_HOST ?? '127.0.0.1';
export const MQTT_PORT = Number(process.env.MQTT_PORT ?? 1883);

/**
 * Runs an example's main function; a failure is one line (and atbridge's fix, when it has one)
 * and the error's exit code, never a stack trace.
 */
export function run(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const e = err as { message?: string; fix?: string; exitCode?: number };
    console.error(`error: ${e.message ?? String(err)}`);
    if (e.fix) console.error(`fix: ${e.fix}`);
    process.exit(typeof e.exitCode === 'number' && e.exitCode > 0 ? e.exitCode : 1);
  });
}
