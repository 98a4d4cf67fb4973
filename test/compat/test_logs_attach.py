"""logs (since, until, tail, follow, timestamps, stdout/stderr) and attach."""
import datetime
import math
import re
import time

import docker
import pytest
from conftest import IMAGE

TIMESTAMP = re.compile(rb'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) (.*)$')


def finished(client, cmd, **kwargs):
    ctr = client.containers.run(IMAGE, cmd, detach=True, **kwargs)
    ctr.wait(timeout=20)
    return ctr


def parse_time(stamp):
    """RFC 3339 with nanoseconds, as Docker writes it, to seconds since the epoch."""
    text = stamp.decode()
    whole, _, frac = text[:-1].partition('.')
    t = datetime.datetime.strptime(whole, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc).timestamp()
    return t + (float(f'0.{frac}') if frac else 0.0)


def test_logs(any_client):
    ctr = finished(any_client, 'echo hello world')
    assert ctr.logs() == b'hello world\n'


def test_logs_stdout_and_stderr_apart(client):
    ctr = finished(client, 'sh -c "echo out; sleep 0.1; echo err >&2"')
    assert ctr.logs() == b'out\nerr\n'
    assert ctr.logs(stdout=True, stderr=False) == b'out\n'
    assert ctr.logs(stdout=False, stderr=True) == b'err\n'


def test_logs_tail(client):
    ctr = finished(client, 'sh -c "for i in 1 2 3 4 5; do echo $i; done"')
    assert ctr.logs(tail=2) == b'4\n5\n'
    assert ctr.logs(tail=0) == b''
    assert ctr.logs(tail='all') == b'1\n2\n3\n4\n5\n'


def test_logs_timestamps(client):
    ctr = finished(client, 'sh -c "echo a; echo b"')
    lines = ctr.logs(timestamps=True).splitlines()
    assert len(lines) == 2
    for line, text in zip(lines, [b'a', b'b']):
        m = TIMESTAMP.match(line)
        assert m, line
        assert m.group(2) == text
        assert abs(parse_time(m.group(1)) - time.time()) < 60


def test_logs_since_and_until(client):
    ctr = finished(client, 'sh -c "echo early; sleep 1.2; echo late"')
    early, late = (TIMESTAMP.match(line) for line in ctr.logs(timestamps=True).splitlines())
    # docker-py 5 sends whole seconds (also for a datetime); the lines are 1.2 s apart, so
    # the first whole second after the early one comes before the late one.
    between = math.ceil(parse_time(early.group(1)))
    assert ctr.logs(since=between) == b'late\n'
    assert ctr.logs(until=between) == b'early\n'
    assert ctr.logs(since=datetime.datetime.utcfromtimestamp(between)) == b'late\n'
    assert ctr.logs(since=int(time.time()) + 5) == b''


def test_logs_follow_ends_with_the_container(client):
    ctr = client.containers.run(IMAGE, 'sh -c "for i in 1 2 3; do echo $i; sleep 0.2; done"', detach=True)
    assert b''.join(ctr.logs(stream=True, follow=True)) == b'1\n2\n3\n'


def test_logs_stream_without_follow_stops_at_the_end(client):
    ctr = client.containers.run(IMAGE, 'sh -c "echo one; sleep 300"', detach=True)
    time.sleep(0.5)
    start = time.monotonic()
    assert b''.join(ctr.logs(stream=True, follow=False)) == b'one\n'
    assert time.monotonic() - start < 5


def test_logs_follow_with_tail_zero_sees_only_new_lines(client):
    ctr = client.containers.run(IMAGE, 'sh -c "echo old; sleep 1; echo new"', detach=True)
    time.sleep(0.5)
    assert b''.join(ctr.logs(stream=True, follow=True, tail=0)) == b'new\n'


def test_logs_of_tty_container_are_raw(client):
    ctr = finished(client, 'sh -c "echo out; echo err >&2"', tty=True)
    assert ctr.logs() == b'out\r\nerr\r\n'


def test_log_config_options_and_drivers(client):
    # docker-py's LogConfig: the options are kept (inspect), applied (local's own files), checked.
    cfg = docker.types.LogConfig(type='local', config={'max-size': '1m', 'max-file': '2', 'compress': 'false'})
    ctr = finished(client, 'sh -c "echo kept"', log_config=cfg)
    assert ctr.attrs['HostConfig']['LogConfig'] == {'Type': 'local', 'Config': {'max-size': '1m', 'max-file': '2', 'compress': 'false'}}
    assert ctr.logs() == b'kept\n'
    with pytest.raises(docker.errors.APIError) as e:
        client.containers.create(IMAGE, 'true', log_config=docker.types.LogConfig(type='json-file', config={'max-sise': '1m'}))
    assert e.value.status_code == 400
    assert "unknown log opt 'max-sise' for json-file log driver" in e.value.explanation


def test_logs_of_a_driver_that_cannot_be_read(client):
    ctr = finished(client, 'echo x', log_config=docker.types.LogConfig(type='none'))
    with pytest.raises(docker.errors.APIError) as e:
        ctr.logs()
    assert e.value.status_code == 501
    assert 'configured logging driver does not support reading' in e.value.explanation


def test_logs_missing_container_is_not_found(client):
    with pytest.raises(docker.errors.NotFound):
        client.api.logs('compat-missing')


def test_attach_stream_with_logs(any_client):
    ctr = any_client.containers.create(IMAGE, 'sh -c "echo hello; sleep 0.3; echo world"')
    ctr.start()
    out = b''.join(ctr.attach(stdout=True, stderr=True, stream=True, logs=True))
    assert out == b'hello\nworld\n'


def test_attach_before_start_sees_everything(client):
    ctr = client.containers.create(IMAGE, 'sh -c "sleep 0.3; echo out; echo err >&2"')
    sock = client.api.attach_socket(ctr.id, params={'stdout': 1, 'stderr': 1, 'stream': 1})
    ctr.start()
    frames = list(docker.utils.socket.frames_iter(sock, tty=False))
    sock.close()
    assert (docker.utils.socket.STDOUT, b'out\n') in frames
    assert (docker.utils.socket.STDERR, b'err\n') in frames


@pytest.mark.timeout(5)
def test_attach_without_stream_returns_the_logs(client):
    ctr = finished(client, 'echo logged')
    assert ctr.attach(stdout=True, stderr=True, stream=False, logs=True) == b'logged\n'


def test_attach_demux(client):
    ctr = client.containers.create(IMAGE, 'sh -c "sleep 0.3; echo out; sleep 0.1; echo err >&2"')
    ctr.start()
    chunks = list(ctr.attach(stdout=True, stderr=True, stream=True, logs=True, demux=True))
    assert b''.join(c[0] for c in chunks if c[0]) == b'out\n'
    assert b''.join(c[1] for c in chunks if c[1]) == b'err\n'


def test_attach_stdin(client):
    ctr = client.containers.run(IMAGE, 'cat', detach=True, stdin_open=True)
    sock = client.api.attach_socket(ctr.id, params={'stdin': 1, 'stdout': 1, 'stream': 1})
    raw = getattr(sock, '_sock', sock)
    raw.sendall(b'hello\n')
    assert docker.utils.socket.next_frame_header(sock) == (docker.utils.socket.STDOUT, 6)
    assert docker.utils.socket.read_exactly(sock, 6) == b'hello\n'
    sock.close()


def test_attach_missing_container_is_not_found(client):
    with pytest.raises(docker.errors.NotFound):
        client.api.attach('compat-missing')


@pytest.mark.timeout(10)
def test_logs_follow_answers_before_any_output(client):
    # docker-py's run() asks for the logs right after the start and inspects the container
    # as soon as the answer's status arrives; a quiet container must not hold it back.
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True)
    start = time.monotonic()
    stream = client.api.logs(ctr.id, stream=True, follow=True)
    assert time.monotonic() - start < 5
    stream.close()
