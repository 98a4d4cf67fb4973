"""containers.run and containers.create: what docker-py's run() relies on, as Docker answers."""
import os
import subprocess
import tempfile

import docker
import pytest
from conftest import IMAGE, unique, wait_for


def test_run_returns_the_output(any_client):
    assert any_client.containers.run(IMAGE, 'echo hello world', remove=True) == b'hello world\n'


def test_run_default_log_config_is_json_file(client):
    # docker-py's run() reads HostConfig.LogConfig.Type to decide whether it can read logs.
    ctr = client.containers.create(IMAGE, 'true')
    assert ctr.attrs['HostConfig']['LogConfig'] == {'Type': 'json-file', 'Config': {}}


def test_run_detach_returns_the_container(client):
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True)
    assert isinstance(ctr, docker.models.containers.Container)
    assert ctr.attrs['Config']['Image'] == IMAGE
    assert ctr.attrs['Config']['Cmd'] == ['sleep', '300']
    ctr.reload()
    assert ctr.status == 'running'
    assert ctr.attrs['State']['Running'] is True
    assert ctr.attrs['State']['Pid'] > 0


def test_run_with_error_raises_container_error(any_client):
    with pytest.raises(docker.errors.ContainerError) as e:
        any_client.containers.run(IMAGE, 'cat /nonexistent', remove=True)
    assert e.value.exit_status == 1
    assert e.value.image == IMAGE
    assert e.value.command == 'cat /nonexistent'
    assert b'No such file or directory' in e.value.stderr
    assert 'No such file or directory' in str(e.value)


def test_run_remove_leaves_no_container(client):
    name = unique()
    assert client.containers.run(IMAGE, 'true', name=name, remove=True) == b''
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(name)


def test_run_detach_and_remove_is_auto_remove(client):
    ctr = client.containers.run(IMAGE, 'sleep 0.2', detach=True, remove=True)
    assert ctr.attrs['HostConfig']['AutoRemove'] is True

    def gone():
        try:
            client.containers.get(ctr.id)
            return False
        except docker.errors.NotFound:
            return True
    wait_for(gone)


def test_run_auto_remove_returns_the_output(client):
    # The sleep lets docker-py read the logs before the daemon removes the container.
    assert client.containers.run(IMAGE, 'sh -c "echo hello && sleep 1"', auto_remove=True) == b'hello\n'


def test_run_auto_remove_error_has_no_stderr(client):
    with pytest.raises(docker.errors.ContainerError) as e:
        client.containers.run(IMAGE, 'sh -c ">&2 echo error && sleep 1 && exit 3"', auto_remove=True)
    assert e.value.exit_status == 3
    assert e.value.stderr is None


def test_run_stream_yields_log_lines(client):
    out = client.containers.run(IMAGE, 'sh -c "echo hello && echo world"', stream=True, remove=True)
    assert list(out) == [b'hello\n', b'world\n']


def test_run_stderr_only(client):
    out = client.containers.run(IMAGE, 'sh -c "echo out; echo err >&2"', stdout=False, stderr=True, remove=True)
    assert out == b'err\n'


def test_run_log_driver_none_gives_no_output(client):
    assert client.containers.run(IMAGE, 'echo hello', log_config={'type': 'none'}, remove=True) is None


def test_run_environment_dict_and_list(any_client):
    out = any_client.containers.run(IMAGE, 'env', environment={'FOO': 'bar', 'EMPTY': ''}, remove=True)
    assert b'FOO=bar\n' in out
    assert b'EMPTY=\n' in out
    out = any_client.containers.run(IMAGE, 'env', environment=['A=1', 'B=two words'], remove=True)
    assert b'A=1\n' in out
    assert b'B=two words\n' in out


def test_run_with_bind_mount(client):
    path = tempfile.mkdtemp(prefix='berth-compat-bind-')
    try:
        client.containers.run(IMAGE, 'sh -c "echo hello > /inside/test"', volumes=[f'{path}:/inside'], remove=True)
        with open(os.path.join(path, 'test'), 'rb') as f:
            assert f.read() == b'hello\n'
        out = client.containers.run(IMAGE, 'cat /inside/test', volumes={path: {'bind': '/inside', 'mode': 'ro'}}, remove=True)
        assert out == b'hello\n'
        with pytest.raises(docker.errors.ContainerError) as e:
            client.containers.run(IMAGE, 'touch /inside/other', volumes={path: {'bind': '/inside', 'mode': 'ro'}}, remove=True)
        assert b'Read-only file system' in e.value.stderr
    finally:
        subprocess.run(['rm', '-rf', path])


def test_run_with_named_volume(client):
    vol = unique('vol')
    client.containers.run(IMAGE, 'sh -c "echo hello > /data/test"', volumes=[f'{vol}:/data'], remove=True)
    assert client.volumes.get(vol).name == vol
    assert client.containers.run(IMAGE, 'cat /data/test', volumes=[f'{vol}:/data'], remove=True) == b'hello\n'
    ctr = client.containers.create(IMAGE, 'true', volumes=[f'{vol}:/data:ro'])
    mounts = ctr.attrs['Mounts']
    assert len(mounts) == 1
    assert mounts[0]['Type'] == 'volume'
    assert mounts[0]['Name'] == vol
    assert mounts[0]['Destination'] == '/data'
    assert mounts[0]['Driver'] == 'local'
    assert mounts[0]['RW'] is False


def test_run_with_network(client):
    net = client.networks.create(unique('net'))
    ctr = client.containers.run(IMAGE, 'sleep 300', network=net.name, detach=True)
    ctr.reload()
    networks = ctr.attrs['NetworkSettings']['Networks']
    assert list(networks.keys()) == [net.name]
    assert networks[net.name]['NetworkID'] == net.id
    assert networks[net.name]['IPAddress'] != ''
    assert ctr.attrs['HostConfig']['NetworkMode'] == net.name


def test_run_with_network_mode_none(client):
    out = client.containers.run(IMAGE, 'ls /sys/class/net', network_mode='none', remove=True)
    assert out == b'lo\n'


def test_run_with_random_published_port(client):
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, ports={'2222/tcp': None})
    ctr.reload()
    assert list(ctr.ports.keys()) == ['2222/tcp']
    for binding in ctr.ports['2222/tcp']:
        assert sorted(binding.keys()) == ['HostIp', 'HostPort']
        assert int(binding['HostPort']) > 0
    assert ctr.attrs['HostConfig']['PortBindings'] == {'2222/tcp': [{'HostIp': '', 'HostPort': ''}]}


def test_run_with_fixed_published_ports(client):
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True,
                                ports={'80/tcp': ('127.0.0.1', 18080), '53/udp': 15353})
    ctr.reload()
    assert ctr.ports['80/tcp'] == [{'HostIp': '127.0.0.1', 'HostPort': '18080'}]
    assert {b['HostPort'] for b in ctr.ports['53/udp']} == {'15353'}
    assert client.api.port(ctr.id, 80) == [{'HostIp': '127.0.0.1', 'HostPort': '18080'}]


def test_run_same_host_port_twice_fails(client):
    client.containers.run(IMAGE, 'sleep 300', detach=True, ports={'80/tcp': 18081})
    with pytest.raises(docker.errors.APIError) as e:
        client.containers.run(IMAGE, 'sleep 300', detach=True, ports={'80/tcp': 18081})
    assert 'address already in use' in str(e.value) or 'port is already allocated' in str(e.value)


def test_run_with_labels_hostname_workdir_user(client):
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, labels={'a': 'b'}, hostname='myhost',
                                working_dir='/tmp', user='1234:5678')
    assert ctr.labels == {'a': 'b'}
    assert ctr.attrs['Config']['Hostname'] == 'myhost'
    assert ctr.attrs['Config']['WorkingDir'] == '/tmp'
    assert ctr.attrs['Config']['User'] == '1234:5678'
    assert ctr.exec_run('sh -c "hostname; pwd; id -u; id -g"').output == b'myhost\n/tmp\n1234\n5678\n'


def test_run_with_healthcheck_becomes_healthy(client):
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, healthcheck={
        'test': ['CMD-SHELL', 'true'], 'interval': 200_000_000, 'timeout': 1_000_000_000, 'retries': 2})
    assert ctr.attrs['Config']['Healthcheck'] == {
        'Test': ['CMD-SHELL', 'true'], 'Interval': 200_000_000, 'Timeout': 1_000_000_000, 'Retries': 2}

    def healthy():
        ctr.reload()
        return ctr.attrs['State'].get('Health', {}).get('Status') == 'healthy'
    wait_for(healthy)
    log = ctr.attrs['State']['Health']['Log']
    assert log and log[-1]['ExitCode'] == 0
    assert client.containers.list(filters={'health': 'healthy'})[0].id == ctr.id


def test_run_with_failing_healthcheck_becomes_unhealthy(client):
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, healthcheck={
        'test': ['CMD', 'false'], 'interval': 100_000_000, 'retries': 2})
    ctr.reload()
    assert ctr.attrs['State']['Health']['Status'] == 'starting'

    def unhealthy():
        ctr.reload()
        return ctr.attrs['State']['Health']['Status'] == 'unhealthy'
    wait_for(unhealthy)
    assert ctr.attrs['State']['Health']['FailingStreak'] >= 2


def test_healthcheck_past_its_timeout_fails_with_dockerds_message(client):
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, healthcheck={
        'test': ['CMD', 'sleep', '5'], 'interval': 200_000_000, 'timeout': 300_000_000, 'retries': 1})

    def unhealthy():
        ctr.reload()
        return ctr.attrs['State']['Health']['Status'] == 'unhealthy'
    wait_for(unhealthy)
    last = ctr.attrs['State']['Health']['Log'][-1]
    assert (last['ExitCode'], last['Output']) == (-1, 'Health check exceeded timeout (300ms)')
    assert client.containers.list(filters={'health': 'unhealthy'})[0].id == ctr.id


def test_create_with_bad_healthcheck_is_bad_request(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.containers.create(IMAGE, 'true', healthcheck={'test': ['CMD', 'true'], 'interval': 500_000})
    assert e.value.status_code == 400
    assert 'Interval in Healthcheck cannot be less than 1ms' in str(e.value)


def test_create_with_missing_image_is_image_not_found(client):
    with pytest.raises(docker.errors.ImageNotFound) as e:
        client.containers.create('compat-does-not-exist:latest', 'true')
    assert e.value.status_code == 404
    assert 'No such image: compat-does-not-exist:latest' in str(e.value)


def test_create_with_taken_name_conflicts(any_client):
    name = unique()
    any_client.containers.create(IMAGE, 'true', name=name)
    with pytest.raises(docker.errors.APIError) as e:
        any_client.containers.create(IMAGE, 'true', name=name)
    assert e.value.status_code == 409
    assert f'The container name "/{name}" is already in use' in str(e.value)


def test_create_with_bad_restart_policy_is_bad_request(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.containers.create(IMAGE, 'true', restart_policy={'Name': 'sometimes'})
    assert e.value.status_code == 400


def test_create_and_start(client):
    ctr = client.containers.create(IMAGE, 'sleep 50')
    assert ctr.status == 'created'
    ctr.start()
    ctr.reload()
    assert ctr.status == 'running'
