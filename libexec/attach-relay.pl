# A byte-stream bridge to conmon's SEQPACKET attach socket (src/runtime/attach-relay.ts has the protocol).
use strict; use warnings; use Socket;
my ($dir, $name, $mode) = @ARGV;
$SIG{PIPE} = 'IGNORE';
chdir $dir or die "chdir $dir: $!\n";
socket(my $s, AF_UNIX, SOCK_SEQPACKET, 0) or die "socket: $!\n";
connect($s, pack_sockaddr_un($name)) or die "connect $dir/$name: $!\n";
binmode STDOUT; binmode STDIN;
sub out { my $d = shift; while (length $d) { my $n = syswrite(STDOUT, $d);
  if (!defined $n) { next if $!{EINTR}; exit 0 } substr($d, 0, $n) = '' } }
out(pack('N', 0));
my $in = $mode eq 'stdin'; my $pending = ''; my $sfd = fileno($s);
while (1) {
  my ($r, $w) = ('', '');
  vec($r, $sfd, 1) = 1;
  vec($r, 0, 1) = 1 if $in && $pending eq '';
  vec($w, $sfd, 1) = 1 if $pending ne '';
  my ($ro, $wo) = ($r, $w);
  my $n = select($ro, $wo, undef, undef);
  if ($n < 0) { next if $!{EINTR}; die "select: $!\n" }
  if (vec($ro, $sfd, 1)) {
    my $got = sysread($s, my $buf, 65536);
    if (!defined $got) { next if $!{EINTR} || $!{EAGAIN}; last }
    last if $got == 0;
    out(pack('N', $got) . $buf);
  }
  if ($pending ne '' && vec($wo, $sfd, 1)) {
    my $sent = send($s, $pending, MSG_DONTWAIT);
    if (defined $sent) { $pending = '' } elsif (!$!{EAGAIN} && !$!{EINTR}) { $pending = ''; $in = 0 }
  }
  if ($in && $pending eq '' && vec($ro, 0, 1)) {
    my $got = sysread(STDIN, $pending, 32768);
    if (!$got) { $pending = ''; $in = 0; shutdown($s, 1) }
  }
}
