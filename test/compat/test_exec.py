"""exec_run and the low-level exec calls: tty or not, demux, stream, user, workdir, env."""
import docker
import pytest
from conftest import IMAGE

OUT_ERR = 'sh -c "echo out; sleep 0.1; echo err >&2"'


@pytest.fixture
def ctr(client):
    return client.containers.run(IMAGE, 'sleep 300', detach=True)


def test_exec_run_returns_exit_code_and_output(any_client):
    ctr = any_client.containers.run(IMAGE, 'sh -c "echo hello > /test; sleep 300"', detach=True)
    result = ctr.exec_run('cat /test')
    assert result.exit_code == 0
    assert result.output == b'hello\n'
    assert tuple(result) == (0, b'hello\n')


def test_exec_run_exit_code(ctr):
    assert ctr.exec_run('sh -c "exit 7"').exit_code == 7


def test_exec_run_missing_command_is_127(ctr):
    # dockerd 28 on (moby c866a7e5, "daemon/exec: don't overwrite exit code if set"):
    # 127 for a missing command, 126 only for one that cannot be run; before, always 126.
    result = ctr.exec_run('compat-no-such-command')
    assert result.exit_code == 127
    assert result.output.startswith(b'OCI runtime exec failed: ')
    assert b'executable file not found' in result.output
    assert ctr.exec_run('/etc').exit_code == 126


def test_exec_run_stdout_and_stderr_together(ctr):
    assert ctr.exec_run(OUT_ERR).output == b'out\nerr\n'


def test_exec_run_stdout_only(ctr):
    assert ctr.exec_run(OUT_ERR, stderr=False).output == b'out\n'


def test_exec_run_demux(any_client):
    ctr = any_client.containers.run(IMAGE, 'sleep 300', detach=True)
    result = ctr.exec_run(OUT_ERR, demux=True)
    assert result.exit_code == 0
    assert result.output == (b'out\n', b'err\n')


def test_exec_run_demux_without_stderr_output(ctr):
    assert ctr.exec_run('echo only', demux=True).output == (b'only\n', None)


def test_exec_run_tty(ctr):
    result = ctr.exec_run(OUT_ERR, tty=True)
    assert result.exit_code == 0
    assert result.output == b'out\r\nerr\r\n'


def test_exec_run_tty_is_a_terminal(ctr):
    assert ctr.exec_run('sh -c "test -t 1 && echo tty"', tty=True).output == b'tty\r\n'
    assert ctr.exec_run('sh -c "test -t 1 || echo notty"').output == b'notty\n'


def test_exec_run_tty_demux_puts_all_on_stdout(ctr):
    assert ctr.exec_run(OUT_ERR, tty=True, demux=True).output == (b'out\r\nerr\r\n', None)


def test_exec_run_stream(ctr):
    result = ctr.exec_run('sh -c "echo 1; sleep 0.2; echo 2"', stream=True)
    assert result.exit_code is None
    assert b''.join(result.output) == b'1\n2\n'


def test_exec_run_stream_demux(ctr):
    result = ctr.exec_run(OUT_ERR, stream=True, demux=True)
    chunks = list(result.output)
    assert b''.join(c[0] for c in chunks if c[0]) == b'out\n'
    assert b''.join(c[1] for c in chunks if c[1]) == b'err\n'


@pytest.mark.timeout(5)
def test_exec_run_user(ctr):
    assert ctr.exec_run('id -u', user='1234').output == b'1234\n'
    assert ctr.exec_run('id', user='nobody').output.startswith(b'uid=65534(nobody)')
    assert ctr.exec_run('id -u', user='root').output == b'0\n'


@pytest.mark.timeout(5)
def test_exec_run_unknown_user_fails(ctr):
    # dockerd 28.2 on (moby b54a038b, "docker exec: fail early on exec create if specified
    # user doesn't exist") refuses it at create; before, the start failed inside the stream.
    with pytest.raises(docker.errors.APIError) as e:
        ctr.exec_run('id -u', user='compat-no-such-user')
    assert e.value.status_code == 400
    assert 'unable to find user compat-no-such-user: no matching entries in passwd file' in str(e.value)


def test_exec_run_workdir(ctr):
    assert ctr.exec_run('pwd', workdir='/tmp').output == b'/tmp\n'
    assert ctr.exec_run('pwd').output == b'/\n'


def test_exec_run_environment(ctr):
    out = ctr.exec_run('env', environment={'FOO': 'bar'}).output
    assert b'FOO=bar\n' in out
    out = ctr.exec_run('env', environment=['A=1']).output
    assert b'A=1\n' in out


def test_exec_run_privileged_flag_is_accepted(ctr):
    assert ctr.exec_run('true', privileged=False).exit_code == 0


def test_exec_inspect(client, ctr):
    exec_id = client.api.exec_create(ctr.id, 'sh -c "exit 3"', user='1234', workdir='/tmp')['Id']
    before = client.api.exec_inspect(exec_id)
    assert before['ID'] == exec_id
    assert before['Running'] is False
    assert before['ExitCode'] is None
    assert before['ContainerID'] == ctr.id
    assert before['ProcessConfig'] == {'tty': False, 'entrypoint': 'sh', 'arguments': ['-c', 'exit 3'],
                                       'privileged': False, 'user': '1234'}
    client.api.exec_start(exec_id)
    after = client.api.exec_inspect(exec_id)
    assert after['Running'] is False
    assert after['ExitCode'] == 3
    assert after['Pid'] > 0


def test_exec_start_detached(client, ctr):
    exec_id = client.api.exec_create(ctr.id, 'sh -c "echo hi > /detached"')['Id']
    assert client.api.exec_start(exec_id, detach=True) == ''
    assert ctr.exec_run('cat /detached').output == b'hi\n'


def test_exec_socket_with_stdin(client, ctr):
    exec_id = client.api.exec_create(ctr.id, 'cat', stdin=True)['Id']
    sock = client.api.exec_start(exec_id, socket=True)
    raw = getattr(sock, '_sock', sock)
    raw.sendall(b'hello\n')
    header = docker.utils.socket.next_frame_header(sock)
    assert header == (docker.utils.socket.STDOUT, 6)
    assert docker.utils.socket.read_exactly(sock, 6) == b'hello\n'
    sock.close()


def test_exec_in_stopped_container_conflicts(client):
    ctr = client.containers.create(IMAGE, 'true')
    with pytest.raises(docker.errors.APIError) as e:
        ctr.exec_run('true')
    assert e.value.status_code == 409
    assert 'is not running' in str(e.value)


def test_exec_in_paused_container_conflicts(client, ctr):
    ctr.pause()
    with pytest.raises(docker.errors.APIError) as e:
        ctr.exec_run('true')
    assert e.value.status_code == 409
    assert 'is paused' in str(e.value)


def test_exec_in_missing_container_is_not_found(client):
    with pytest.raises(docker.errors.NotFound) as e:
        client.api.exec_create('compat-missing', 'true')
    assert e.value.status_code == 404


def test_exec_inspect_missing_is_not_found(client):
    with pytest.raises(docker.errors.NotFound) as e:
        client.api.exec_inspect('0' * 64)
    assert e.value.status_code == 404
    assert 'No such exec instance' in str(e.value)
