/** Users and groups from the C library (NSS: files, LDAP, ... as the machine is set up). */
import { koffi, lib } from './ffi.js';

const PasswdT = koffi.struct('passwd', {
  pw_name: 'char *',
  pw_passwd: 'char *',
  pw_uid: 'uint32_t',
  pw_gid: 'uint32_t',
  pw_gecos: 'char *',
  pw_dir: 'char *',
  pw_shell: 'char *',
});

const GroupT = koffi.struct('group', {
  gr_name: 'char *',
  gr_passwd: 'char *',
  gr_gid: 'uint32_t',
  gr_mem: 'void *',
});

const c_getpwnam = lib.func('passwd *getpwnam(const char *name)');
const c_getpwuid = lib.func('passwd *getpwuid(uint32_t uid)');
const c_getgrnam = lib.func('group *getgrnam(const char *name)');

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  dir: string;
  shell: string;
}

function decodePasswd(p: unknown): PasswdEntry | undefined {
  if (p === null || p === undefined) return undefined;
  const pw = koffi.decode(p, PasswdT) as { pw_name: string; pw_uid: number; pw_gid: number; pw_dir: string; pw_shell: string };
  return { name: pw.pw_name, uid: pw.pw_uid, gid: pw.pw_gid, dir: pw.pw_dir, shell: pw.pw_shell };
}

export function getpwnam(name: string): PasswdEntry | undefined {
  return decodePasswd(c_getpwnam(name));
}

export function getpwuid(uid: number): PasswdEntry | undefined {
  return decodePasswd(c_getpwuid(uid));
}

export function getgrnam(name: string): { name: string; gid: number } | undefined {
  const p = c_getgrnam(name) as unknown;
  if (p === null || p === undefined) return undefined;
  const gr = koffi.decode(p, GroupT) as { gr_name: string; gr_gid: number };
  return { name: gr.gr_name, gid: gr.gr_gid };
}
