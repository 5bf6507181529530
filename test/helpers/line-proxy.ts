import net from 'node:net';

/**
 * A raw TCP hop between the host and a module served over TCP (as ser2net serves one): real
 * sockets both ways, and the faults a line has — a connection reset (RST), an orderly close (EOF),
 * refusing new connections for a while (the device gone), or a reset armed to fire when the host
 * sends a given command (so a fault lands in a chosen phase of bring-up, without timing).
 */
export interface LineProxy {
  port: number;
  address: string;
  /** Connections made through the proxy so far. */
  readonly connections: number;
  /** Resets (RST) every connection now. */
  reset(): void;
  /** Ends every connection (FIN) now. */
  end(): void;
  /** Closes the listener: new connections are refused until `accept()`. Current ones stay. */
  refuse(): Promise<void>;
  accept(): Promise<void>;
  /** Resets the line the next time the host sends bytes matching `pattern` (once). */
  resetWhenHostSends(pattern: RegExp, then?: () => void): void;
  /**
   * The next time the module says `prompt` (a send's '>'), lets only the first `keep` bytes of
   * what the host sends next reach the module, then resets the line (once): the module is left
   * waiting for the rest of a payload, as when the host program is killed mid-write.
   */
  resetMidPayload(prompt: RegExp, keep: number): void;
  /** Resets done by resetMidPayload so far. */
  readonly midPayloadResets: number;
  /**
   * The next time the host sends bytes matching `pattern`, the module gets them with the match
   * replaced by `replacement` (once): a bit flipped on the way, at a chosen command.
   */
  rewriteWhenHostSends(pattern: RegExp, replacement: string): void;
  /** Rewrites done by rewriteWhenHostSends so far. */
  readonly rewrites: number;
  /** What the host sent through the proxy (latin1, as the module got it; the last 64 KiB). */
  readonly hostText: string;
  close(): Promise<void>;
}

export async function startLineProxy(target: { host: string; port: number }): Promise<LineProxy> {
  const pairs = new Set<{ host: net.Socket; module: net.Socket }>();
  let armed: { pattern: RegExp; then: (() => void) | undefined } | undefined;
  let midPayload: { prompt: RegExp; keep: number; prompted: boolean } | undefined;
  let midPayloadResets = 0;
  let rewrite: { pattern: RegExp; replacement: string } | undefined;
  let rewrites = 0;
  let hostText = '';
  const heard = (chunk: Buffer) => {
    hostText = (hostText + chunk.toString('latin1')).slice(-65536);
    return chunk;
  };
  let connections = 0;
  let port = 0;
  const onConnection = (host: net.Socket) => {
    connections++;
    const module = net.connect(target);
    const pair = { host, module };
    pairs.add(pair);
    host.setNoDelay(true);
    module.setNoDelay(true);
    const drop = () => {
      pairs.delete(pair);
      host.destroy();
      module.destroy();
    };
    host.on('error', drop);
    module.on('error', drop);
    host.on('close', drop);
    module.on('close', drop);
    module.on('data', (chunk) => {
      if (midPayload && midPayload.prompt.test(chunk.toString('latin1'))) midPayload.prompted = true;
      host.write(chunk);
    });
    host.on('data', (chunk) => {
      if (midPayload?.prompted) {
        const { keep } = midPayload;
        midPayload = undefined;
        midPayloadResets++;
        module.write(heard(chunk.subarray(0, keep)), () => resetAll());
        return;
      }
      if (rewrite && rewrite.pattern.test(chunk.toString('latin1'))) {
        const { pattern, replacement } = rewrite;
        rewrite = undefined;
        rewrites++;
        module.write(heard(Buffer.from(chunk.toString('latin1').replace(pattern, replacement), 'latin1')));
        return;
      }
      if (armed && armed.pattern.test(chunk.toString('latin1'))) {
        const { then } = armed;
        armed = undefined;
        resetAll();
        then?.();
        return;
      }
      module.write(heard(chunk));
    });
  };
  const resetAll = () => {
    for (const { host, module } of [...pairs]) {
      host.resetAndDestroy();
      module.destroy();
    }
    pairs.clear();
  };
  let server = net.createServer(onConnection);
  const listen = (s: net.Server) => new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve());
  });
  await listen(server);
  port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    reset: resetAll,
    end() {
      for (const { host, module } of [...pairs]) {
        host.end();
        module.end();
      }
    },
    async refuse() {
      // The listening socket closes now; the callback would wait for the open connections.
      server.close();
    },
    async accept() {
      if (server.listening) return;
      server = net.createServer(onConnection);
      await listen(server);
    },
    resetWhenHostSends(pattern, then) {
      armed = { pattern, then };
    },
    resetMidPayload(prompt, keep) {
      midPayload = { prompt, keep, prompted: false };
    },
    get midPayloadResets() {
      return midPayloadResets;
    },
    rewriteWhenHostSends(pattern, replacement) {
      rewrite = { pattern, replacement };
    },
    get rewrites() {
      return rewrites;
    },
    get hostText() {
      return hostText;
    },
    async close() {
      resetAll();
      if (server.listening) server.close();
    },
  };
}
