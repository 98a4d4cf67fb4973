"""Swarm mode through docker-py's swarm and node calls, on a one-node swarm advertised on
127.0.0.1 (as docker-py's own integration tests init it). Facts from docker-py's
tests/integration/api_swarm_test.py and moby's swagger."""
import docker
import pytest

SWMTKN = 'SWMTKN-1-'


@pytest.fixture
def swarm(client):
    """A swarm of this one node, left (forced) afterwards."""
    node_id = client.api.init_swarm(advertise_addr='127.0.0.1', listen_addr='0.0.0.0:2377')
    try:
        yield node_id
    finally:
        try:
            client.api.leave_swarm(force=True)
        except docker.errors.APIError:
            pass


def test_init_inspect_and_leave(client, swarm):
    info = client.api.inspect_swarm()
    assert len(info['ID']) == 25
    assert info['Version']['Index'] > 0
    assert info['Spec']['Name'] == 'default'
    assert info['Spec']['Raft']['SnapshotInterval'] == 10000
    assert info['Spec']['Orchestration']['TaskHistoryRetentionLimit'] == 5
    assert info['Spec']['Dispatcher']['HeartbeatPeriod'] == 5_000_000_000
    assert info['Spec']['CAConfig']['NodeCertExpiry'] == 7_776_000_000_000_000
    assert info['JoinTokens']['Worker'].startswith(SWMTKN)
    assert info['JoinTokens']['Manager'].startswith(SWMTKN)
    assert info['DefaultAddrPool'] == ['10.0.0.0/8']
    assert info['SubnetSize'] == 24
    assert info['DataPathPort'] == 4789
    assert info['TLSInfo']['TrustRoot'].startswith('-----BEGIN CERTIFICATE-----')
    assert client.info()['Swarm']['NodeID'] == swarm
    with pytest.raises(docker.errors.APIError) as e:
        client.api.init_swarm(advertise_addr='127.0.0.1')
    assert e.value.response.status_code == 503
    with pytest.raises(docker.errors.APIError) as e:
        client.api.leave_swarm()
    assert e.value.response.status_code == 503
    assert client.api.leave_swarm(force=True) is True
    with pytest.raises(docker.errors.APIError) as e:
        client.api.inspect_swarm()
    assert e.value.response.status_code == 503


def test_init_with_a_spec(client):
    spec = client.api.create_swarm_spec(task_history_retention_limit=3, dispatcher_heartbeat_period=2_000_000_000, node_cert_expiry=7_200_000_000_000)
    client.api.init_swarm(advertise_addr='127.0.0.1', swarm_spec=spec)
    try:
        got = client.api.inspect_swarm()['Spec']
        assert got['Orchestration']['TaskHistoryRetentionLimit'] == 3
        assert got['Dispatcher']['HeartbeatPeriod'] == 2_000_000_000
        assert got['CAConfig']['NodeCertExpiry'] == 7_200_000_000_000
    finally:
        client.api.leave_swarm(force=True)


def test_update_swarm(client, swarm):
    before = client.api.inspect_swarm()
    spec = client.api.create_swarm_spec(task_history_retention_limit=10, node_cert_expiry=7_200_000_000_000)
    assert client.api.update_swarm(version=before['Version']['Index'], swarm_spec=spec, rotate_worker_token=True) is True
    after = client.api.inspect_swarm()
    assert after['Version']['Index'] != before['Version']['Index']
    assert after['Spec']['Orchestration']['TaskHistoryRetentionLimit'] == 10
    assert after['Spec']['CAConfig']['NodeCertExpiry'] == 7_200_000_000_000
    assert after['JoinTokens']['Manager'] == before['JoinTokens']['Manager']
    assert after['JoinTokens']['Worker'] != before['JoinTokens']['Worker']
    with pytest.raises(docker.errors.APIError) as e:
        client.api.update_swarm(version=before['Version']['Index'], swarm_spec=spec)
    assert e.value.response.status_code == 500
    assert 'update out of sequence' in str(e.value)


@pytest.mark.xfail(reason="berth keeps the swarm's state in etcd, not in swarmkit's Raft: Raft settings are refused (501)", strict=True)
def test_init_swarm_custom_raft_spec(client):
    spec = client.api.create_swarm_spec(snapshot_interval=5000, log_entries_for_slow_followers=1200)
    try:
        client.api.init_swarm(advertise_addr='127.0.0.1', swarm_spec=spec)
        assert client.api.inspect_swarm()['Spec']['Raft']['SnapshotInterval'] == 5000
    finally:
        try:
            client.api.leave_swarm(force=True)
        except docker.errors.APIError:
            pass


def test_list_inspect_and_update_nodes(client, swarm):
    nodes = client.api.nodes()
    assert len(nodes) == 1
    node = nodes[0]
    assert node['ID'] == swarm
    assert node['Spec']['Role'] == 'manager'
    assert node['ManagerStatus']['Leader'] is True
    assert node['Status']['State'] == 'ready'
    assert len(client.api.nodes(filters={'id': node['ID']})) == 1
    assert client.api.nodes(filters={'role': 'worker'}) == []
    assert client.api.inspect_node(node['ID'])['Version'] == node['Version']
    orig = node['Spec']
    labelled = dict(orig, Labels={'new.label': 'new value'})
    client.api.update_node(node_id=node['ID'], version=node['Version']['Index'], node_spec=labelled)
    updated = client.api.inspect_node(node['ID'])
    assert updated['Spec'] == labelled
    client.api.update_node(node_id=node['ID'], version=updated['Version']['Index'], node_spec=orig)
    assert client.api.inspect_node(node['ID'])['Spec'] == orig
    # The only manager cannot be made a worker.
    with pytest.raises(docker.errors.APIError) as e:
        client.api.update_node(node_id=node['ID'], version=client.api.inspect_node(node['ID'])['Version']['Index'], node_spec=dict(orig, Role='worker'))
    assert e.value.response.status_code == 400
    assert 'attempting to demote the last manager of the swarm' in str(e.value)


def test_remove_main_node(client, swarm):
    with pytest.raises(docker.errors.NotFound):
        client.api.remove_node('foobar01')
    for force in (False, True):
        with pytest.raises(docker.errors.APIError) as e:
            client.api.remove_node(swarm, force)
        assert e.value.response.status_code == 400


def test_create_list_get_scale_and_remove_a_service(client, swarm):
    from conftest import wait_for
    service = client.services.create('busybox', command=['sleep', '100000'], name='compat-web', mode=docker.types.ServiceMode('replicated', replicas=2), labels={'tier': 'front'})
    try:
        assert len(service.id) == 25
        got = client.services.get('compat-web')
        assert got.id == service.id
        assert got.attrs['Spec']['Name'] == 'compat-web'
        assert got.attrs['Spec']['Labels'] == {'tier': 'front'}
        assert got.attrs['Spec']['Mode'] == {'Replicated': {'Replicas': 2}}
        assert got.attrs['Spec']['TaskTemplate']['ContainerSpec']['Image'] == 'busybox'
        assert [s.id for s in client.services.list(filters={'label': 'tier=front'})] == [service.id]
        assert client.services.list(filters={'name': 'nothing'}) == []

        def running():
            tasks = got.tasks(filters={'desired-state': 'running'})
            return len(tasks) == 2 and all(t['Status']['State'] == 'running' for t in tasks) and tasks

        tasks = wait_for(running, timeout=30)
        assert sorted(t['Slot'] for t in tasks) == [1, 2]
        assert all(t['NodeID'] == swarm and t['ServiceID'] == service.id for t in tasks)
        assert all(len(t['Status']['ContainerStatus']['ContainerID']) == 64 for t in tasks)
        names = sorted(c.name for c in client.containers.list(filters={'label': f'com.docker.swarm.service.id={service.id}'}))
        assert [n.rsplit('.', 1)[0] for n in names] == ['compat-web.1', 'compat-web.2']
        got.scale(1)
        wait_for(lambda: len(got.tasks(filters={'desired-state': 'running'})) == 1, timeout=30)
        with pytest.raises(docker.errors.APIError) as e:
            client.services.create('busybox', name='compat-web')
        assert e.value.response.status_code == 409
    finally:
        service.remove()
    with pytest.raises(docker.errors.NotFound):
        client.services.get(service.id)
    # docker-py inspects each listed container: one removed in between is skipped, not an error (as against dockerd).
    wait_for(lambda: client.containers.list(all=True, ignore_removed=True, filters={'label': f'com.docker.swarm.service.id={service.id}'}) == [], timeout=30)


def test_service_logs(client, swarm):
    from conftest import wait_for
    service = client.services.create('busybox', command=['sh', '-c', 'echo hi-compat; sleep 100000'], name='compat-logs')
    try:
        def logs(**kw):
            out = service.logs(stdout=True, stderr=True, **kw)
            return out if isinstance(out, bytes) else b''.join(out)

        assert wait_for(lambda: logs() == b'hi-compat\n', timeout=30)
        task = service.tasks()[0]
        assert logs(details=True) == f'com.docker.swarm.node.id={swarm},com.docker.swarm.service.id={service.id},com.docker.swarm.task.id={task["ID"]} hi-compat\n'.encode()
    finally:
        service.remove()
