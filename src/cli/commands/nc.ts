import type { Command } from 'commander';
import pc from 'picocolors';
import { AtbridgeError, ExitCode } from '../../errors.js';
import { openModemSession } from '../../modem/session.js';
import { addModemOptions, modemSessionOptions, type ModemCliOptions } from '../modem-options.js';
import { action, intOption } from '../run.js';

interface NcOptions extends ModemCliOptions {
  quit: number;
  verbose?: boolean;
}

/** `atbridge nc HOST PORT`: netcat through the module's TCP stack (stdin → socket → stdout). */
export default function register(program: Command): void {
  const cmd = program
    .command('nc')
    .description('netcat through the module: stdin goes to HOST:PORT, what it answers goes to stdout')
    .argument('<host>', 'host to connect to, as the module sees it')
    .argument('<port>', 'TCP port', intOption('port', 1, 65535))
    .option('-q, --quit <seconds>', 'after stdin ends, wait this long for more answer, then close', intOption('-q', 0, 3600), 1)
    .option('-v, --verbose', 'print the modem steps on stderr');
  addModemOptions(cmd).action(
    action(async (host: string, port: number, opts: NcOptions) => {
      const session = await openModemSession(
        // Without -v, still each step of a silent module's rate search and retries (tens of seconds, not a hang).
        modemSessionOptions(opts, opts.verbose ? { onProgress: (m) => process.stderr.write(`${pc.dim(m)}\n`) } : { onWait: (m) => process.stderr.write(`atbridge: ${m}\n`) }),
      );
      try {
        const socket = await session.connect(host, port);
        if (opts.verbose) process.stderr.write(pc.dim(`connected to ${host}:${port} through ${session.profileId}\n`));
        return await new Promise<number>((resolve, reject) => {
          let idle: NodeJS.Timeout | undefined;
          let stdinDone = false;
          const finish = () => {
            clearTimeout(idle);
            socket.end();
          };
          const armQuit = () => {
            clearTimeout(idle);
            if (stdinDone) idle = setTimeout(finish, opts.quit * 1000);
          };
          socket.on('data', (chunk: Buffer) => {
            process.stdout.write(chunk);
            armQuit();
          });
          socket.on('error', (err) => reject(err instanceof AtbridgeError ? err : new AtbridgeError('socket-failed', err.message, { exitCode: ExitCode.socketFailed })));
          socket.on('close', () => {
            clearTimeout(idle);
            process.stdin.unpipe(socket);
            process.stdin.pause();
            resolve(ExitCode.ok);
          });
          process.stdin.on('end', () => {
            stdinDone = true;
            armQuit();
          });
          process.stdin.pipe(socket, { end: false });
        });
      } finally {
        await session.close();
      }
    }),
  );
}
