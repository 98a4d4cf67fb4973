"""ping, version, info, events and df."""
import itertools
import threading
import time

import docker
import pytest
from conftest import IMAGE, unique


def test_ping_version_info(any_client):
    assert any_client.ping() is True
    v = any_client.version()
    assert v['ApiVersion'] == '1.44'
    assert v['Os'] == 'linux'
    for key in ['Version', 'MinAPIVersion', 'GitCommit', 'GoVersion', 'Arch', 'KernelVersion', 'Components']:
        assert key in v, key
    info = any_client.info()
    for key in ['ID', 'Containers', 'ContainersRunning', 'ContainersPaused', 'ContainersStopped', 'Images',
                'Driver', 'OSType', 'Architecture', 'NCPU', 'MemTotal', 'DockerRootDir', 'ServerVersion']:
        assert key in info, key


def test_info_counts(client):
    before = client.info()
    client.containers.run(IMAGE, 'sleep 300', detach=True)
    client.containers.create(IMAGE, 'true')
    after = client.info()
    assert after['Containers'] == before['Containers'] + 2
    assert after['ContainersRunning'] == before['ContainersRunning'] + 1
    assert after['ContainersStopped'] == before['ContainersStopped'] + 1


def events_between(client, action, **filters):
    since = int(time.time()) - 1
    action()
    until = int(time.time()) + 1
    return list(client.events(since=since, until=until, decode=True, filters=filters))


def test_events_of_a_container(any_client):
    name = unique()
    box = {}

    def run():
        ctr = any_client.containers.run(IMAGE, 'true', name=name, detach=True, labels={'k': 'v'})
        ctr.wait()
        ctr.remove()
        box['id'] = ctr.id

    events = events_between(any_client, run, container=name)
    assert [e['Action'] for e in events] == ['create', 'start', 'die', 'destroy']
    create = events[0]
    assert create['Type'] == 'container'
    assert create['Actor']['ID'] == box['id']
    assert create['Actor']['Attributes']['name'] == name
    assert create['Actor']['Attributes']['image'] == IMAGE
    assert create['Actor']['Attributes']['k'] == 'v'
    assert create['scope'] == 'local'
    assert isinstance(create['time'], int) and isinstance(create['timeNano'], int)
    assert create['status'] == 'create' and create['id'] == box['id'] and create['from'] == IMAGE
    die = [e for e in events if e['Action'] == 'die'][0]
    assert die['Actor']['Attributes']['exitCode'] == '0'


def test_events_of_networks_and_volumes(client):
    net_name, vol_name = unique('net'), unique('vol')

    def make():
        net = client.networks.create(net_name)
        ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, network=net_name)
        ctr.remove(force=True)
        net.remove()
        client.volumes.create(vol_name).remove()

    # Only this test's network and volume: the window may also hold a previous test's events.
    events = [e for e in events_between(client, make, type=['network', 'volume'])
              if e['Actor']['Attributes'].get('name') == net_name or e['Actor']['ID'] == vol_name]
    seen = [(e['Type'], e['Action']) for e in events]
    assert seen == [('network', 'create'), ('network', 'connect'), ('network', 'disconnect'), ('network', 'destroy'),
                    ('volume', 'create'), ('volume', 'destroy')]
    assert events[0]['Actor']['Attributes'] == {'name': net_name, 'type': 'bridge'}
    assert events[4]['Actor']['ID'] == vol_name
    assert events[4]['Actor']['Attributes'] == {'driver': 'local'}


def test_events_stream_live(client):
    stream = client.events(decode=True, filters={'type': 'network'})
    got = []
    reader = threading.Thread(target=lambda: got.extend(itertools.islice(stream, 1)))
    reader.start()
    time.sleep(0.3)
    net = client.networks.create(unique('net'))
    reader.join(10)
    stream.close()
    assert got and got[0]['Action'] == 'create' and got[0]['Actor']['ID'] == net.id


def test_df(any_client):
    vol = any_client.volumes.create(unique('vol'))
    ctr = any_client.containers.create(IMAGE, 'true', volumes=[f'{vol.name}:/data'])
    df = any_client.df()
    for key in ['LayersSize', 'Images', 'Containers', 'Volumes', 'BuildCache']:
        assert key in df, key
    [img] = [i for i in df['Images'] if 'busybox:latest' in (i['RepoTags'] or [])]
    assert img['Containers'] == 1
    assert img['Size'] > 0
    [c] = [c for c in df['Containers'] if c['Id'] == ctr.id]
    assert c['Image'] == IMAGE
    assert 'SizeRw' in c and 'SizeRootFs' in c
    [v] = [v for v in df['Volumes'] if v['Name'] == vol.name]
    assert v['UsageData']['RefCount'] == 1
    assert isinstance(v['UsageData']['Size'], int)
