# Datagrams to a unix socket, framed on stdin (src/logs/transport/unixgram.ts has the protocol).
use strict; use warnings; use IO::Socket::UNIX; use Socket;
$| = 1; binmode STDIN;
my $path = $ARGV[0]; my $sock;
sub conn { $sock = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Peer => $path); return $sock ? '' : "$!"; }
sub readn { my ($n) = @_; my $b = ''; while (length($b) < $n) { my $r = sysread(STDIN, $b, $n - length($b), length($b)); return undef unless $r; } return $b; }
conn();
while (defined(my $h = readn(5))) {
  my ($op, $len) = unpack('CN', $h);
  my $d = $len ? readn($len) : '';
  last unless defined $d;
  if ($op == 1) { my $e = conn(); print $e eq '' ? "probe ok\n" : "probe err $e\n"; next; }
  if (!$sock) { my $e = conn(); if ($e ne '') { print "err $e\n"; next; } }
  next if defined send($sock, $d, 0);
  my $e = "$!";
  next if conn() eq '' && defined send($sock, $d, 0);
  print "err $e\n";
}
