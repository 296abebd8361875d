/**
 * The virtual modem bank, as a library for tests:
 *
 *   const bank = await createBank({ lines: 2, dir });
 *   const call = bank.line(0).call({ callerId: '5551234' });
 *   await bank.line(0).waitForDte(/ATA\r/, 5000);
 *   await call.connected;
 *   call.write('joe\r');
 *   await bank.close();
 */
import { SimBank, type BankOptions } from './bank.js';

export { SimBank, SimLine, type BankOptions, type CallOptions, type ListenOptions } from './bank.js';
export { Call, type CallState } from './call.js';
export { ExpectBuffer } from './expect.js';
export { Exchange } from './exchange.js';
export {
  HayesModem,
  type CallLeg,
  type CallOutcome,
  type EndReason,
  type ModemFaults,
  type ModemMode,
  type ModemOptions,
  type ModemState,
  type Network,
  type RemoteParty,
  type RingSpec,
} from './modem.js';
export { PERSONALITIES, GENERIC_V92, USR_SPORTSTER, ZYXEL_1496, findPersonality, type CidFormat, type Personality } from './personality.js';
export { callerIdBlock, ringLines, type CallerInfo, type DistinctiveFormat } from './callerid.js';
export { PtyLine, type LineTransport } from './pty-line.js';
export { MemoryTransport } from './memory-transport.js';
export { TelnetCodec } from './telnet.js';
export { Transcript, formatEntry, type TranscriptEntry, type Direction } from './transcript.js';

/** Create a bank of simulated modems (ptys and symlinks are in place when this resolves). */
export async function createBank(opts: BankOptions): Promise<SimBank> {
  const bank = new SimBank(opts);
  // Lines that listen (ip232) are in service once bound; a port in use fails the whole bank.
  try {
    await Promise.all(bank.lines.map((l) => l.transport.ready ?? Promise.resolve()));
  } catch (err) {
    await bank.close();
    throw err;
  }
  return bank;
}
