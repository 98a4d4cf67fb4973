# mount(2) by number: mount2.pl SOURCE TARGET FSTYPE FLAGS DATA SYSCALL_NUMBER
# (src/kernel/mount.ts says why). `+ 0`: perl passes a string argument to a syscall as a
# pointer, a number as an int; empty data is passed as NULL, as Go's unix.Mount does.
# On failure the errno's number and text go to stderr as "errno N: TEXT".
use strict; use warnings;
my ($source, $target, $fstype, $flags, $data, $nr) = @ARGV;
syscall($nr + 0, $source, $target, $fstype, $flags + 0, $data eq '' ? 0 : $data) == 0
  or die sprintf("errno %d: %s\n", $! + 0, "$!");
