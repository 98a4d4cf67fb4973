# berth-spawner: forks the kernel tools berthd runs (src/kernel/spawner.ts has the protocol).
use strict; use warnings; use POSIX (); use IO::Select;
$0 = 'berth-spawner';
$SIG{PIPE} = 'IGNORE';
binmode STDIN; binmode STDOUT; $| = 1;
my $sel = IO::Select->new(\*STDIN);
my (%jobs, %pipes);
my ($inbuf, $eof) = ('', 0);
my $NOEXEC = "\0berth-spawner: ";
sub answer {
  my ($id, $kind, $code, $out, $err) = @_;
  my $body = pack('N N l> N/a* N/a*', $id, $kind, $code, $out, $err);
  print STDOUT pack('N/a*', $body);
}
sub start {
  my ($id, $input, @argv) = @_;
  return answer($id, 2, 0, '', 'empty command') unless @argv;
  my ($in, $or, $ow, $er, $ew);
  open($in, '+>', undef) or return answer($id, 2, 0, '', "temp file: $!");
  binmode $in; print $in $input; $in->flush; seek($in, 0, 0);
  pipe($or, $ow) or return answer($id, 2, 0, '', "pipe: $!");
  pipe($er, $ew) or return answer($id, 2, 0, '', "pipe: $!");
  my $pid = fork();
  return answer($id, 2, 0, '', "fork: $!") unless defined $pid;
  if ($pid == 0) {
    POSIX::dup2(fileno($in), 0); POSIX::dup2(fileno($ow), 1); POSIX::dup2(fileno($ew), 2);
    { no warnings; exec { $argv[0] } @argv; }
    print STDERR $NOEXEC . "$!"; POSIX::_exit(127);
  }
  close $in; close $ow; close $ew;
  my $job = { id => $id, out => '', err => '', open => 2, status => undef };
  $jobs{$pid} = $job;
  for my $p ([$or, 'out'], [$er, 'err']) { $sel->add($p->[0]); $pipes{fileno $p->[0]} = [$job, $p->[1], $p->[0]]; }
}
sub finish {
  for my $pid (keys %jobs) {
    my $j = $jobs{$pid};
    next if $j->{open} > 0;
    if (!defined $j->{status}) {
      my $r = waitpid($pid, POSIX::WNOHANG());
      next if $r == 0;
      $j->{status} = $r < 0 ? 0 : $?;
    }
    delete $jobs{$pid};
    my $st = $j->{status};
    if (index($j->{err}, $NOEXEC) == 0) { answer($j->{id}, 2, 0, '', substr($j->{err}, length $NOEXEC)); }
    elsif ($st & 127) { answer($j->{id}, 1, $st & 127, $j->{out}, $j->{err}); }
    else { answer($j->{id}, 0, $st >> 8, $j->{out}, $j->{err}); }
  }
}
while (!$eof || %jobs) {
  my $waiting = grep { $_->{open} == 0 } values %jobs;
  my @ready = $sel->can_read($waiting ? 0.002 : undef);
  for my $fh (@ready) {
    if (fileno($fh) == fileno(STDIN)) {
      my $n = sysread(STDIN, $inbuf, 65536, length $inbuf);
      if (!$n) { $eof = 1; $sel->remove(\*STDIN); next; }
      while (length($inbuf) >= 4) {
        my $len = unpack('N', $inbuf);
        last if length($inbuf) < 4 + $len;
        my $body = substr($inbuf, 4, $len);
        substr($inbuf, 0, 4 + $len) = '';
        start(unpack('N N/a* (N/a*)*', $body));
      }
      next;
    }
    my $p = $pipes{fileno $fh};
    my $n = sysread($fh, $p->[0]{$p->[1]}, 65536, length $p->[0]{$p->[1]});
    if (!$n) { $sel->remove($fh); delete $pipes{fileno $fh}; close $fh; $p->[0]{open} -= 1; }
  }
  finish();
}
