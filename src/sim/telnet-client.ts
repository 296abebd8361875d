/**
 * The telnet client side, for dial-out to telnet hosts (BBSs). The same RFC 1143 Q method
 * as for callers (telnet.ts): a request is sent only on a state change and an
 * acknowledgement is never answered, so no server can draw it into a negotiation loop
 * (the failures tcpser has with inetutils-telnetd, go4retro/tcpser#35, and endless
 * BINARY chatter, #15). We ask the server to ECHO and to SUPPRESS-GO-AHEAD, offer SGA,
 * and agree to BINARY both ways when the server asks; everything else (terminal type,
 * window size, linemode, environment...) is refused once.
 */
import { OPT_BINARY, OPT_ECHO, OPT_SGA, TelnetCodec, type TelnetPolicy } from './telnet.js';

export const CLIENT_POLICY: TelnetPolicy = {
  weWill: [OPT_BINARY, OPT_SGA],
  heMay: [OPT_BINARY, OPT_ECHO, OPT_SGA],
  offer: [OPT_SGA],
  ask: [OPT_ECHO, OPT_SGA],
  crLfIsReturn: false,
};

/** A telnet codec for our side of an outgoing connection. */
export function telnetClient(send: (bytes: Buffer) => void): TelnetCodec {
  return new TelnetCodec(send, CLIENT_POLICY);
}
