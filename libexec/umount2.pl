# umount2(2) by number: umount2.pl TARGET SYSCALL_NUMBER FLAGS (src/kernel/mount.ts says why).
# `+ 0`: perl passes a string argument to a syscall as a pointer, a number as an int.
use strict; use warnings;
my ($target, $nr, $flags) = @ARGV;
syscall($nr + 0, $target, $flags + 0) == 0
  or die "umount $target: " . ($!{EINVAL} ? 'not mounted' : "$!") . "\n";
