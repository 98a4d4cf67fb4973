"""A container's everyday verbs: wait, kill, stop, restart, update, rename, pause, top,
stats, remove, list and prune, with Docker's answers and error statuses."""
import threading
import time

import docker
import pytest
import requests
from conftest import IMAGE, anonymous_volume_container, unique


def running(client, cmd='sleep 300', **kwargs):
    return client.containers.run(IMAGE, cmd, detach=True, **kwargs)


def test_wait_returns_the_exit_code(any_client):
    ctr = running(any_client, 'sh -c "exit 3"')
    result = ctr.wait()
    assert result['StatusCode'] == 3
    assert result.get('Error') is None


def test_wait_with_condition_next_exit(client):
    ctr = client.containers.create(IMAGE, 'sh -c "exit 5"')
    # next-exit may be asked before the start: it waits for the exit that follows.
    box = {}
    t = threading.Thread(target=lambda: box.update(r=ctr.wait(condition='next-exit', timeout=20)))
    t.start()
    time.sleep(0.5)
    ctr.start()
    t.join(25)
    assert box['r']['StatusCode'] == 5


def test_wait_timeout_raises(client):
    ctr = running(client)
    # requests' read timeout: over a unix socket it surfaces as a ConnectionError.
    with pytest.raises((requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError)):
        ctr.wait(timeout=1)


def test_wait_missing_container_is_not_found(client):
    with pytest.raises(docker.errors.NotFound) as e:
        client.api.wait('compat-missing')
    assert e.value.status_code == 404


def test_kill(client):
    ctr = running(client)
    ctr.kill()
    ctr.reload()
    assert ctr.status == 'exited'
    assert ctr.attrs['State']['ExitCode'] == 137


def test_kill_with_signal(client):
    ctr = running(client, 'sh -c "trap \'exit 42\' USR1; while true; do sleep 0.1; done"')
    ctr.kill(signal='SIGUSR1')
    assert ctr.wait(timeout=10)['StatusCode'] == 42


def test_kill_not_running_conflicts(client):
    ctr = client.containers.create(IMAGE, 'true')
    with pytest.raises(docker.errors.APIError) as e:
        ctr.kill()
    assert e.value.status_code == 409
    assert 'is not running' in str(e.value)


def test_kill_bad_signal_is_bad_request(client):
    ctr = running(client)
    with pytest.raises(docker.errors.APIError) as e:
        ctr.kill(signal='SIGNOPE')
    assert e.value.status_code == 400
    assert 'invalid signal' in str(e.value)


def test_stop_and_restart(client):
    ctr = running(client)
    started = ctr.attrs['State']['StartedAt']
    ctr.restart(timeout=1)
    ctr.reload()
    assert ctr.status == 'running'
    assert ctr.attrs['State']['StartedAt'] != started
    ctr.stop(timeout=1)
    ctr.reload()
    assert ctr.status == 'exited'


def test_update_resources(any_client):
    ctr = running(any_client)
    result = ctr.update(cpu_shares=512, mem_limit='64m', memswap_limit='128m')
    assert result['Warnings'] in (None, [])
    ctr.reload()
    host = ctr.attrs['HostConfig']
    assert host['CpuShares'] == 512
    assert host['Memory'] == 64 * 1024 * 1024
    assert host['MemorySwap'] == 128 * 1024 * 1024


def test_update_restart_policy(client):
    ctr = running(client)
    ctr.update(restart_policy={'Name': 'on-failure', 'MaximumRetryCount': 3})
    ctr.reload()
    assert ctr.attrs['HostConfig']['RestartPolicy'] == {'Name': 'on-failure', 'MaximumRetryCount': 3}


def test_update_missing_container_is_not_found(client):
    with pytest.raises(docker.errors.NotFound):
        client.api.update_container('compat-missing', cpu_shares=512)


def test_update_restart_policy_of_auto_remove_container_conflicts(client):
    ctr = running(client, auto_remove=True)
    with pytest.raises(docker.errors.APIError) as e:
        ctr.update(restart_policy={'Name': 'always'})
    assert e.value.status_code == 409
    assert 'Restart policy cannot be updated because AutoRemove is enabled for the container' in str(e.value)
    ctr.remove(force=True)


def test_update_stopped_container_is_kept_for_its_start(client):
    ctr = client.containers.create(IMAGE, 'sleep 300')
    ctr.update(cpu_period=100000, cpu_quota=50000, mem_limit='32m', memswap_limit='64m')
    ctr.start()
    ctr.reload()
    host = ctr.attrs['HostConfig']
    assert (host['CpuPeriod'], host['CpuQuota'], host['Memory'], host['MemorySwap']) == (100000, 50000, 32 * 1024 * 1024, 64 * 1024 * 1024)
    stats = ctr.stats(stream=False)
    assert stats['memory_stats']['limit'] == 32 * 1024 * 1024
    ctr.remove(force=True)


def test_rename(client):
    name, new = unique(), unique()
    ctr = running(client, name=name)
    assert ctr.name == name
    ctr.rename(new)
    ctr.reload()
    assert ctr.name == new
    assert client.containers.get(new).id == ctr.id
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(name)


def test_rename_to_taken_name_conflicts(client):
    taken = unique()
    running(client, name=taken)
    ctr = running(client)
    with pytest.raises(docker.errors.APIError) as e:
        ctr.rename(taken)
    assert e.value.status_code == 409


def test_rename_missing_container_is_not_found(client):
    with pytest.raises(docker.errors.NotFound):
        client.api.rename('compat-missing', unique())


def test_pause_and_unpause(client):
    ctr = running(client)
    ctr.pause()
    ctr.reload()
    assert ctr.status == 'paused'
    assert ctr.attrs['State']['Paused'] is True
    assert ctr.attrs['State']['Running'] is True
    ctr.unpause()
    ctr.reload()
    assert ctr.status == 'running'
    assert ctr.attrs['State']['Paused'] is False


def test_pause_twice_and_unpause_running_conflict(client):
    ctr = running(client)
    with pytest.raises(docker.errors.APIError) as e:
        ctr.unpause()
    assert e.value.status_code == 409
    ctr.pause()
    with pytest.raises(docker.errors.APIError) as e:
        ctr.pause()
    assert e.value.status_code == 409
    assert 'is already paused' in str(e.value)


def test_pause_stopped_container_conflicts(client):
    ctr = client.containers.create(IMAGE, 'true')
    with pytest.raises(docker.errors.APIError) as e:
        ctr.pause()
    assert e.value.status_code == 409
    assert 'is not running' in str(e.value)


def test_top(client):
    ctr = running(client)
    top = ctr.top()
    assert top['Titles'] == ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']
    assert len(top['Processes']) == 1
    assert top['Processes'][0][7] == 'sleep 300'


def test_top_with_ps_args(client):
    ctr = running(client)
    top = ctr.top(ps_args='-o pid,comm')
    assert top['Titles'] == ['PID', 'COMMAND']
    assert [p[1] for p in top['Processes']] == ['sleep']


def test_top_stopped_container_conflicts(client):
    ctr = client.containers.create(IMAGE, 'true')
    with pytest.raises(docker.errors.APIError) as e:
        ctr.top()
    assert e.value.status_code == 409


def test_stats_once(any_client):
    name = unique()
    ctr = running(any_client, name=name)
    stats = ctr.stats(stream=False)
    for key in ['read', 'preread', 'pids_stats', 'networks', 'precpu_stats', 'cpu_stats', 'memory_stats', 'blkio_stats']:
        assert key in stats
    assert stats['name'] == f'/{name}'
    assert stats['id'] == ctr.id
    assert stats['pids_stats']['current'] >= 1
    assert stats['memory_stats']['usage'] > 0
    assert stats['cpu_stats']['cpu_usage']['total_usage'] > 0
    assert 'eth0' in stats['networks']


def test_stats_stream_decodes(client):
    ctr = running(client)
    stream = ctr.stats(decode=True)
    first = next(stream)
    second = next(stream)
    stream.close()
    assert second['precpu_stats']['cpu_usage']['total_usage'] == first['cpu_stats']['cpu_usage']['total_usage']


def test_remove_running_conflicts_and_force_removes(any_client):
    ctr = running(any_client)
    with pytest.raises(docker.errors.APIError) as e:
        ctr.remove()
    assert e.value.status_code == 409
    ctr.remove(force=True)
    with pytest.raises(docker.errors.NotFound):
        any_client.containers.get(ctr.id)


def test_remove_with_volumes(client):
    ctr = anonymous_volume_container(client)
    vol = ctr.attrs['Mounts'][0]['Name']
    ctr.remove(v=True)
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get(vol)


def test_list_filters(client):
    label = unique('label')
    up = running(client, labels={label: 'up'}, name=unique())
    down = client.containers.create(IMAGE, 'true', labels={label: 'down'})
    assert [c.id for c in client.containers.list(filters={'label': label})] == [up.id]
    assert {c.id for c in client.containers.list(all=True, filters={'label': label})} == {up.id, down.id}
    assert [c.id for c in client.containers.list(all=True, filters={'label': f'{label}=down'})] == [down.id]
    assert [c.id for c in client.containers.list(all=True, filters={'status': 'created', 'label': label})] == [down.id]
    assert [c.id for c in client.containers.list(filters={'name': up.name})] == [up.id]
    assert [c.id for c in client.containers.list(all=True, filters={'id': down.id[:12]})] == [down.id]


def test_list_bad_filter_is_bad_request(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.containers.list(filters={'bogus': 'x'})
    assert e.value.status_code == 400
    assert "invalid filter 'bogus'" in str(e.value)


def test_prune_removes_stopped_containers_only(client):
    up = running(client)
    down = client.containers.create(IMAGE, 'true')
    result = client.containers.prune()
    assert result['ContainersDeleted'] == [down.id]
    assert isinstance(result['SpaceReclaimed'], int)
    assert client.containers.get(up.id).status == 'running'
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(down.id)


def test_prune_with_label_filter(client):
    keep = client.containers.create(IMAGE, 'true', labels={'keep': '1'})
    drop = client.containers.create(IMAGE, 'true')
    result = client.containers.prune(filters={'label!': 'keep'})
    assert result['ContainersDeleted'] == [drop.id]
    assert client.containers.get(keep.id)


def test_get_missing_container_is_not_found(any_client):
    with pytest.raises(docker.errors.NotFound) as e:
        any_client.containers.get('compat-missing')
    assert e.value.status_code == 404
    assert 'No such container: compat-missing' in str(e.value)


def test_start_missing_container_is_not_found(client):
    with pytest.raises(docker.errors.NotFound):
        client.api.start('compat-missing')


def test_port_of_container_without_ports(client):
    ctr = running(client)
    assert client.api.port(ctr.id, 80) is None


def test_inspect_shape_of_a_created_container(client141):
    ctr = client141.containers.create(IMAGE, 'true', name=unique())
    a = ctr.attrs
    for key in ['Id', 'Created', 'Path', 'Args', 'State', 'Image', 'ResolvConfPath', 'HostnamePath', 'HostsPath',
                'LogPath', 'Name', 'RestartCount', 'Driver', 'Platform', 'MountLabel', 'ProcessLabel', 'AppArmorProfile',
                'HostConfig', 'GraphDriver', 'Mounts', 'Config', 'NetworkSettings']:
        assert key in a, key
    assert a['Path'] == 'true' and a['Args'] == []
    assert a['State']['Status'] == 'created'
    host = a['HostConfig']
    assert host['NetworkMode'] in ('default', 'bridge')
    assert host['RestartPolicy'] == {'Name': 'no', 'MaximumRetryCount': 0}
    assert host['LogConfig']['Type'] == 'json-file'
    assert host['AutoRemove'] is False
    assert host['Privileged'] is False
