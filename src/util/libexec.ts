/**
 * berth's helper programs (libexec/ at the top of the tree): the few jobs Node cannot do
 * itself, written in Perl because perl-base is Essential on Debian. Keeping them in files
 * of their own lets the tests check them with `perl -c`.
 */
import { fileURLToPath } from 'node:url';

/** The path of a helper program; this module is built to dist/src/util. */
export function libexecPath(name: string): string {
  return fileURLToPath(new URL(`../../../libexec/${name}`, import.meta.url));
}
