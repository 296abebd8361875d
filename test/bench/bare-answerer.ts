// The floor of the RING -> ATA measurement (used by daemon.bench.ts --floor): a process
// that does nothing but answer. It opens every line given on the command line, raw, and
// writes `ATA\r` the moment a chunk containing `RING` arrives; no lock, no log, no state.
// Whatever latency it shows comes from the harness (simulator, ptys, scheduling), not
// from a getty.
import { openSync, writeSync, constants } from 'node:fs';
import { ReadStream } from 'node:tty';

for (const path of process.argv.slice(2)) {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  const rs = new ReadStream(fd);
  rs.setRawMode(true);
  let seen = '';
  rs.on('data', (b: Buffer) => {
    seen = (seen + b.toString('latin1')).slice(-16);
    if (seen.includes('RING')) {
      seen = '';
      writeSync(fd, 'ATA\r');
    }
  });
}
process.stdout.write('ready\n');
