"""networks.*: create with IPAM, driver options and labels; connect with aliases, links and
addresses; disconnect; list filters; prune; Docker's error statuses."""
import subprocess

import docker
import pytest
from docker.types import IPAMConfig, IPAMPool
from conftest import IMAGE, unique


def ipam(subnet, gateway=None, iprange=None):
    return IPAMConfig(pool_configs=[IPAMPool(subnet=subnet, gateway=gateway, iprange=iprange)])


def test_create_with_ipam(any_client):
    net = any_client.networks.create(unique('net'), driver='bridge',
                                     ipam=ipam('10.123.0.0/16', gateway='10.123.0.254', iprange='10.123.5.0/24'))
    a = net.attrs
    assert a['Name'] == net.name
    assert a['Driver'] == 'bridge'
    assert a['Scope'] == 'local'
    assert a['IPAM']['Driver'] == 'default'
    assert a['IPAM']['Config'] == [{'Subnet': '10.123.0.0/16', 'Gateway': '10.123.0.254', 'IPRange': '10.123.5.0/24'}]
    assert a['Internal'] is False
    assert a['Attachable'] is False
    assert a['Ingress'] is False
    assert a['EnableIPv6'] is False
    assert a['Containers'] == {}


def test_create_with_labels_internal_attachable(client):
    net = client.networks.create(unique('net'), labels={'team': 'a'}, internal=True, attachable=True)
    assert net.attrs['Labels'] == {'team': 'a'}
    assert net.attrs['Internal'] is True
    assert net.attrs['Attachable'] is True


def test_create_with_driver_options(world, client):
    bridge = f'brc{unique("")[1:9]}'
    net = client.networks.create(unique('net'), options={'com.docker.network.bridge.name': bridge,
                                                         'com.docker.network.driver.mtu': '1400'})
    assert net.attrs['Options']['com.docker.network.bridge.name'] == bridge
    assert net.attrs['Options']['com.docker.network.driver.mtu'] == '1400'
    link = subprocess.run(['ip', '-n', world.ns, 'link', 'show', bridge], capture_output=True, text=True)
    assert link.returncode == 0, link.stderr
    out = client.containers.run(IMAGE, 'cat /sys/class/net/eth0/mtu', network=net.name, remove=True)
    assert out == b'1400\n'


def test_create_duplicate_name_conflicts(any_client):
    name = unique('net')
    any_client.networks.create(name)
    with pytest.raises(docker.errors.APIError) as e:
        any_client.networks.create(name)
    assert e.value.status_code == 409
    assert f'network with name {name} already exists' in str(e.value)


def test_create_with_bad_subnet_is_bad_request(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.networks.create(unique('net'), ipam=ipam('10.124.0.0/33'))
    assert e.value.status_code == 400


def test_create_with_gateway_outside_subnet_is_bad_request(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.networks.create(unique('net'), ipam=ipam('10.125.0.0/16', gateway='10.126.0.1'))
    assert e.value.status_code == 400


def test_get_and_list(client):
    label = unique('label')
    net = client.networks.create(unique('net'), labels={label: 'x'})
    assert client.networks.get(net.id).name == net.name
    assert client.networks.get(net.name).id == net.id
    assert [n.id for n in client.networks.list(names=[net.name])] == [net.id]
    assert [n.id for n in client.networks.list(ids=[net.id])] == [net.id]
    assert [n.id for n in client.networks.list(filters={'label': label})] == [net.id]
    assert [n.id for n in client.networks.list(filters={'label': f'{label}=x'})] == [net.id]
    assert net.id in [n.id for n in client.networks.list(filters={'driver': 'bridge'})]
    assert net.id in [n.id for n in client.networks.list(filters={'type': 'custom'})]
    assert 'bridge' in [n.name for n in client.networks.list(filters={'type': 'builtin'})]


def test_list_greedy_shows_containers(client):
    net = client.networks.create(unique('net'))
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, network=net.name)
    [listed] = client.networks.list(names=[net.name], greedy=True)
    assert list(listed.attrs['Containers'].keys()) == [ctr.id]
    assert [c.id for c in listed.containers] == [ctr.id]


def test_get_missing_is_not_found(any_client):
    with pytest.raises(docker.errors.NotFound) as e:
        any_client.networks.get('compat-missing')
    assert e.value.status_code == 404
    assert 'network compat-missing not found' in str(e.value)


def test_connect_with_aliases_and_address(client):
    net = client.networks.create(unique('net'), ipam=ipam('10.127.0.0/24'))
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True)
    net.connect(ctr, aliases=['web', 'www'], ipv4_address='10.127.0.10')
    ctr.reload()
    ep = ctr.attrs['NetworkSettings']['Networks'][net.name]
    assert ep['IPAddress'] == '10.127.0.10'
    assert ep['IPAMConfig'] == {'IPv4Address': '10.127.0.10'}
    assert 'web' in ep['Aliases'] and 'www' in ep['Aliases']
    assert ep['NetworkID'] == net.id
    net.reload()
    assert net.attrs['Containers'][ctr.id]['IPv4Address'] == '10.127.0.10/24'
    out = client.containers.run(IMAGE, 'nslookup www', network=net.name, remove=True)
    assert b'10.127.0.10' in out


def test_connect_with_links(client):
    net = client.networks.create(unique('net'))
    target = client.containers.run(IMAGE, 'sleep 300', detach=True, name=unique(), network=net.name)
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True)
    net.connect(ctr, links=[(target.name, 'db')])
    ctr.reload()
    assert ctr.attrs['NetworkSettings']['Networks'][net.name]['Links'] == [f'{target.name}:db']
    target.reload()
    address = target.attrs['NetworkSettings']['Networks'][net.name]['IPAddress']
    assert address.encode() in ctr.exec_run('nslookup db').output


def test_connect_already_connected_is_forbidden(client):
    net = client.networks.create(unique('net'))
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, network=net.name)
    with pytest.raises(docker.errors.APIError) as e:
        net.connect(ctr)
    assert e.value.status_code == 403
    assert 'already exists in network' in str(e.value)


def test_connect_missing_container_is_not_found(client):
    net = client.networks.create(unique('net'))
    with pytest.raises(docker.errors.NotFound):
        net.connect('compat-missing')


def test_connect_stopped_container_shows_at_start(client):
    net = client.networks.create(unique('net'))
    ctr = client.containers.create(IMAGE, 'sleep 300')
    net.connect(ctr, aliases=['later'])
    ctr.start()
    ctr.reload()
    assert set(ctr.attrs['NetworkSettings']['Networks']) == {'bridge', net.name}
    assert 'later' in ctr.attrs['NetworkSettings']['Networks'][net.name]['Aliases']


def test_disconnect(client):
    net = client.networks.create(unique('net'))
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, network=net.name)
    net.disconnect(ctr)
    ctr.reload()
    assert net.name not in ctr.attrs['NetworkSettings']['Networks']
    net.reload()
    assert net.attrs['Containers'] == {}
    assert ctr.exec_run('ls /sys/class/net').output == b'lo\n'


def test_disconnect_force(client):
    net = client.networks.create(unique('net'))
    ctr = client.containers.run(IMAGE, 'sleep 300', detach=True, network=net.name)
    net.disconnect(ctr, force=True)
    net.reload()
    assert net.attrs['Containers'] == {}


def test_remove_with_active_endpoints_is_forbidden(client):
    net = client.networks.create(unique('net'))
    client.containers.run(IMAGE, 'sleep 300', detach=True, network=net.name)
    with pytest.raises(docker.errors.APIError) as e:
        net.remove()
    assert e.value.status_code == 403
    assert 'has active endpoints' in str(e.value)


def test_remove_predefined_is_forbidden(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.networks.get('bridge').remove()
    assert e.value.status_code == 403


def test_remove_missing_is_not_found(client):
    with pytest.raises(docker.errors.NotFound):
        client.api.remove_network('compat-missing')


def test_prune(any_client):
    used = any_client.networks.create(unique('net'))
    unused = any_client.networks.create(unique('net'))
    any_client.containers.run(IMAGE, 'sleep 300', detach=True, network=used.name)
    result = any_client.networks.prune()
    assert result == {'NetworksDeleted': [unused.name]}
    assert any_client.networks.get(used.id)
    with pytest.raises(docker.errors.NotFound):
        any_client.networks.get(unused.id)


def test_prune_with_label_filter(client):
    keep = client.networks.create(unique('net'), labels={'keep': '1'})
    drop = client.networks.create(unique('net'))
    assert client.networks.prune(filters={'label!': 'keep'}) == {'NetworksDeleted': [drop.name]}
    assert client.networks.get(keep.id)


def test_prune_nothing(client):
    assert client.networks.prune()['NetworksDeleted'] in (None, [])
