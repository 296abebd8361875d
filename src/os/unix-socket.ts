/** Unix datagram sockets (src/daemon/notify.ts: sd_notify without libsystemd; tests: the receiving end). */
import { TgettyError } from '../core/errors.js';
import { c_close, errno, fail, lib, strerror } from './ffi.js';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
/** sizeof(sun_path) in struct sockaddr_un (Linux). */
export const SUN_PATH_MAX = 108;
const c_socket = lib.func('int socket(int domain, int type, int protocol)');
const c_sendto = lib.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)');
const c_bind = lib.func('int bind(int fd, const void *addr, uint32_t addrlen)');
const c_recv = lib.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)');

/**
 * struct sockaddr_un for `sunPath`: the raw bytes of sun_path. A filesystem path is
 * NUL-terminated here; an abstract name starts with a NUL byte and is NOT terminated
 * (its length is part of the name), so the address length is exact in both cases.
 */
function sockaddrUn(sunPath: Buffer): { addr: Buffer; len: number } {
  const abstract = sunPath[0] === 0;
  const used = abstract ? sunPath.length : sunPath.length + 1;
  if (sunPath.length === 0 || used > SUN_PATH_MAX) {
    throw new TgettyError('INTERNAL', `unix socket address too long or empty (${sunPath.length} bytes)`, { input: sunPath.toString('utf8') });
  }
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0); // sa_family_t is host order; every Linux port we target is little-endian
  sunPath.copy(addr, 2);
  return { addr, len: 2 + used };
}

function unixDgramSocket(): number {
  const fd = c_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) fail('socket(AF_UNIX, SOCK_DGRAM)');
  return fd;
}

/** Send one datagram to the unix socket `sunPath` (see sockaddrUn) from a fresh socket. Throws on failure. */
export function sendUnixDatagram(sunPath: Buffer, payload: Buffer): void {
  const { addr, len } = sockaddrUn(sunPath);
  const fd = unixDgramSocket();
  try {
    const n = Number(c_sendto(fd, payload, payload.length, 0, addr, len));
    if (n < 0) fail('sendto', { path: sunPath.toString('utf8') });
  } finally {
    c_close(fd);
  }
}

/** A bound unix datagram socket (tests: the receiving end of sd_notify). Close it with closeFd. */
export function bindUnixDatagram(sunPath: Buffer): number {
  const { addr, len } = sockaddrUn(sunPath);
  const fd = unixDgramSocket();
  if ((c_bind(fd, addr, len) as number) !== 0) {
    const e = errno();
    c_close(fd);
    throw new TgettyError('LINE_OPEN_FAILED', `bind(${sunPath.toString('utf8')}): ${strerror(e)}`, { errno: e });
  }
  return fd;
}

/** One queued datagram, or undefined if none is waiting (never blocks: MSG_DONTWAIT). */
export function recvDatagram(fd: number, max = 4096): Buffer | undefined {
  const buf = Buffer.alloc(max);
  const n = Number(c_recv(fd, buf, max, MSG_DONTWAIT));
  if (n < 0) {
    const e = errno();
    if (e === 11) return undefined; // EAGAIN: nothing queued
    fail('recv', { fd });
  }
  return buf.subarray(0, n);
}
