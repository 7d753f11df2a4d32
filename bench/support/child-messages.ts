/**
 * The benches' child processes talk to the bench over Node's IPC channel; this waits for a
 * child's next message.
 */
import type { ChildProcess } from 'node:child_process';

/** The next message `child` sends; rejects if it exits first. */
export function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T): void => {
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`child process ${String(child.pid)} exited (${String(code)}) before its next message`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}
