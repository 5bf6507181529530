import { afterAll, beforeAll } from 'vitest';
import { startEchoServer, type EchoServer } from './echo-server.js';

/** One loopback echo server for the whole test file: started before the first test, closed after the last. */
export function useEchoServer(): () => EchoServer {
  let echo: EchoServer | undefined;
  beforeAll(async () => {
    echo = await startEchoServer();
  });
  afterAll(async () => {
    await echo?.close();
  });
  return () => {
    if (!echo) throw new Error('the echo server is not started yet');
    return echo;
  };
}
